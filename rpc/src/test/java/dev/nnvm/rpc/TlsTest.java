package dev.nnvm.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS with a self-signed certificate made by the system's {@code openssl}
 * (skipped, saying so, where there is none): a client trusting it scores; a
 * plaintext client is refused.
 */
class TlsTest {
  @TempDir
  Path dir;

  private boolean selfSigned(Path cert, Path key) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext",
        "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key.toString(), "-out", cert.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("openssl.log").toFile());
    try {
      Process p = pb.start();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void servesTlsToAClientThatTrustsItsCertificate() throws Exception {
    Path cert = dir.resolve("server.pem");
    Path key = dir.resolve("server.key");
    assumeTrue(selfSigned(cert, key), "skipped: no 'openssl' here to make a self-signed certificate");
    float[][] rows = TestModels.randomRows(new Random(3), 12, 4);
    try (BufferAllocator arrow = new RootAllocator()) {
      try (NnvmFlightServer server = NnvmFlightServer.start(ServerOptions.builder().port(0).token("t")
          .tls(cert, key).build())) {
        assertEquals("grpc+tls", server.uri().getScheme());
        URI uri = URI.create("grpc+tls://localhost:" + server.port());
        try (NnvmFlightClient client = NnvmFlightClient.builder(uri).token("t").trustedCertificate(cert)
            .allocator(arrow).connect()) {
          RemoteModel model = client.upload(TestModels.dense(0));
          try (VectorSchemaRoot in = TestModels.batch(rows, arrow); VectorSchemaRoot out = model.score(in)) {
            double maxAbs = Outputs.maxAbsError(rows, out, 0);
            System.out.printf("TLS exchange: 12 rows, max abs error %.3g%n", maxAbs);
            assertEquals(12, out.getRowCount());
          }
          assertEquals(List.of("dense0"), client.list().stream().map(ModelInfo::name).toList());
        }
        URI plain = URI.create("grpc+tcp://localhost:" + server.port());
        try (NnvmFlightClient client = NnvmFlightClient.builder(plain).token("t").allocator(arrow).connect()) {
          assertThrows(FlightRuntimeException.class, client::list, "plaintext against a TLS server");
        }
        File other = dir.resolve("other.pem").toFile();
        if (selfSigned(other.toPath(), dir.resolve("other.key"))) {
          try (NnvmFlightClient client = NnvmFlightClient.builder(uri).token("t").trustedCertificate(other.toPath())
              .allocator(arrow).connect()) {
            assertThrows(FlightRuntimeException.class, client::list, "a certificate the client does not trust");
          }
        }
      }
      assertEquals(0, arrow.getAllocatedMemory());
    }
  }
}
