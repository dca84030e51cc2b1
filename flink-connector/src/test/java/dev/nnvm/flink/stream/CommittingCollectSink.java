package dev.nnvm.flink.stream;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * A two-phase test sink: the writer gathers results between checkpoints and
 * hands them over as one committable (with a fresh id) when the checkpoint is
 * taken; the committer publishes a committable into {@link #COMMITTED} once
 * the checkpoint completes, idempotently by id (Flink may commit a restored
 * committable again). Only committed output is visible, as with a
 * transactional sink: a record appearing in two committables would mean the
 * pipeline emitted it twice across a failure.
 */
final class CommittingCollectSink implements Sink<Scored>, SupportsCommitter<CommittingCollectSink.Batch> {
  private static final long serialVersionUID = 1L;

  /** Committed batches by committable id (the test clears it). */
  static final Map<String, List<Scored>> COMMITTED = new ConcurrentHashMap<>();

  /** One committable: the results a subtask wrote between two checkpoints. */
  record Batch(String id, List<Scored> records) {}

  @Override
  public SinkWriter<Scored> createWriter(WriterInitContext context) {
    return new Writer();
  }

  @Override
  public Committer<Batch> createCommitter(CommitterInitContext context) {
    return new Committer<>() {
      @Override
      public void commit(Collection<CommitRequest<Batch>> requests) {
        for (CommitRequest<Batch> r : requests) {
          COMMITTED.putIfAbsent(r.getCommittable().id(), r.getCommittable().records());
        }
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public SimpleVersionedSerializer<Batch> getCommittableSerializer() {
    return new Serializer();
  }

  private static final class Writer implements CommittingSinkWriter<Scored, Batch> {
    private List<Scored> pending = new ArrayList<>();

    @Override
    public void write(Scored element, Context context) {
      pending.add(element);
    }

    @Override
    public void flush(boolean endOfInput) {}

    @Override
    public Collection<Batch> prepareCommit() {
      if (pending.isEmpty()) {
        return List.of();
      }
      Batch b = new Batch(UUID.randomUUID().toString(), pending);
      pending = new ArrayList<>();
      return List.of(b);
    }

    @Override
    public void close() {}
  }

  private static final class Serializer implements SimpleVersionedSerializer<Batch> {
    @Override
    public int getVersion() {
      return 1;
    }

    @Override
    public byte[] serialize(Batch b) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        out.writeUTF(b.id());
        out.writeInt(b.records().size());
        for (Scored s : b.records()) {
          out.writeLong(s.id);
          out.writeBoolean(s.probs != null);
          if (s.probs != null) {
            out.writeInt(s.probs.length);
            for (float f : s.probs) {
              out.writeFloat(f);
            }
          }
          out.writeUTF(s.error == null ? "" : s.error);
          out.writeInt(s.batchSize);
        }
      }
      return bytes.toByteArray();
    }

    @Override
    public Batch deserialize(int version, byte[] serialized) throws IOException {
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
        String id = in.readUTF();
        int n = in.readInt();
        List<Scored> records = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          Scored s = new Scored();
          s.id = in.readLong();
          if (in.readBoolean()) {
            s.probs = new float[in.readInt()];
            for (int j = 0; j < s.probs.length; j++) {
              s.probs[j] = in.readFloat();
            }
          }
          String error = in.readUTF();
          s.error = error.isEmpty() ? null : error;
          s.batchSize = in.readInt();
          records.add(s);
        }
        return new Batch(id, records);
      }
    }
  }
}
