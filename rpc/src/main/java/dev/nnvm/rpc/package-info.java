/**
 * The remote runtime over Arrow Flight: {@link dev.nnvm.rpc.NnvmFlightServer} hosts compiled models
 * (upload, list, unload and benchmark as Flight actions; scoring as a DoExchange of record batches) and
 * {@link dev.nnvm.rpc.NnvmFlightClient} calls it from Java. Any Flight client (pyarrow, C++, Rust) speaks
 * the same protocol, which {@link dev.nnvm.rpc.FlightProtocol} spells out.
 */
package dev.nnvm.rpc;
