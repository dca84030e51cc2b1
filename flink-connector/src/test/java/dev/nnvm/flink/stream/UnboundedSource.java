package dev.nnvm.flink.stream;

import java.util.Collection;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.connector.source.lib.NumberSequenceSource.NumberSequenceSplit;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * A source that declares itself unbounded ({@link Boundedness#CONTINUOUS_UNBOUNDED}) around a generator (which,
 * with {@code Long.MAX_VALUE} records, never ends): the job runs until it is cancelled, and only the operator's
 * timer can flush a partial batch.
 */
public final class UnboundedSource<T>
    implements Source<T, NumberSequenceSplit, Collection<NumberSequenceSplit>>, ResultTypeQueryable<T> {
  private static final long serialVersionUID = 1L;
  private final DataGeneratorSource<T> generator;

  public UnboundedSource(DataGeneratorSource<T> generator) {
    this.generator = generator;
  }

  @Override
  public TypeInformation<T> getProducedType() {
    return generator.getProducedType();
  }

  @Override
  public Boundedness getBoundedness() {
    return Boundedness.CONTINUOUS_UNBOUNDED;
  }

  @Override
  public SourceReader<T, NumberSequenceSplit> createReader(SourceReaderContext context) throws Exception {
    return generator.createReader(context);
  }

  @Override
  public SplitEnumerator<NumberSequenceSplit, Collection<NumberSequenceSplit>> createEnumerator(
      SplitEnumeratorContext<NumberSequenceSplit> context) throws Exception {
    return generator.createEnumerator(context);
  }

  @Override
  public SplitEnumerator<NumberSequenceSplit, Collection<NumberSequenceSplit>> restoreEnumerator(
      SplitEnumeratorContext<NumberSequenceSplit> context, Collection<NumberSequenceSplit> checkpoint)
      throws Exception {
    return generator.restoreEnumerator(context, checkpoint);
  }

  @Override
  public SimpleVersionedSerializer<NumberSequenceSplit> getSplitSerializer() {
    return generator.getSplitSerializer();
  }

  @Override
  public SimpleVersionedSerializer<Collection<NumberSequenceSplit>> getEnumeratorCheckpointSerializer() {
    return generator.getEnumeratorCheckpointSerializer();
  }
}
