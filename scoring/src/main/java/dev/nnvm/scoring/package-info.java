/**
 * The engine-neutral core of the connectors: what Spark and Flink share (the per-JVM model cache keyed by
 * artifact hash, the batch-scoring loop over Arrow batches, the text stages, metric names).
 */
package dev.nnvm.scoring;
