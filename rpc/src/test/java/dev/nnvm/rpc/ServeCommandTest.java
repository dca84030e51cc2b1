package dev.nnvm.rpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.rpc.cli.NnvmServe;
import dev.nnvm.rpc.cli.ServeCommand;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The {@code serve} command: the server in a second JVM, found through its
 * one ready line, scores for a client in this one; a wrong command line is
 * one line on stderr with exit code 2.
 */
class ServeCommandTest {
  @TempDir
  Path dir;

  @Test
  void serveInAnotherProcessPrintsOneReadyLineAndScores() throws Exception {
    Path tokenFile = Files.writeString(dir.resolve("token"), "proc-token\n");
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--add-opens=java.base/java.nio=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
        NnvmServe.class.getName(), "serve", "--port", "0", "--token-file", tokenFile.toString(), "--threads", "1"));
    Process server = new ProcessBuilder(command).redirectError(dir.resolve("server.log").toFile()).start();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(),
        StandardCharsets.UTF_8))) {
      String ready = out.readLine();
      assertTrue(ready != null && ready.startsWith(ServeCommand.READY), "ready line: " + ready + "; log:\n"
          + Files.readString(dir.resolve("server.log")));
      URI uri = URI.create(ready.substring(ServeCommand.READY.length()));
      assertEquals("127.0.0.1", uri.getHost());
      assertTrue(uri.getPort() > 0, ready);
      float[][] rows = TestModels.randomRows(new Random(8), 33, 6);
      try (BufferAllocator arrow = new RootAllocator()) {
        try (NnvmFlightClient client = NnvmFlightClient.builder(uri).token("proc-token").allocator(arrow).connect()) {
          RemoteModel model = client.upload(TestModels.dense(0));
          try (VectorSchemaRoot in = TestModels.batch(rows, arrow); VectorSchemaRoot remote = model.score(in)) {
            double maxAbs = Outputs.maxAbsError(rows, remote, 0);
            System.out.printf("two processes: 33 rows, max abs error %.3g%n", maxAbs);
            assertTrue(maxAbs < 1e-5, "max abs error " + maxAbs);
          }
        }
        assertEquals(0, arrow.getAllocatedMemory());
      }
      assertTrue(server.toHandle().destroy(), "SIGTERM sent"); // Process.destroy() would also close our pipes
      assertEquals(null, out.readLine(), "exactly one line on stdout");
      assertTrue(server.waitFor(20, TimeUnit.SECONDS), "SIGTERM stops the server");
      String log = Files.readString(dir.resolve("server.log"));
      assertTrue(log.contains("uploaded model 'dense0'") && log.contains("closed"), log);
    } finally {
      server.destroyForcibly();
    }
  }

  @Test
  void aWrongCommandLineIsOneLineAndExitCodeTwo() {
    StringWriter err = new StringWriter();
    CommandLine cl = NnvmServe.commandLine();
    cl.setErr(new PrintWriter(err));
    assertEquals(2, cl.execute("serve", "--port", "0", "--bind", "0.0.0.0"), err.toString());
    assertTrue(err.toString().contains("needs a token"), err.toString());
    assertEquals(1, err.toString().strip().lines().count(), err.toString());
    StringWriter err2 = new StringWriter();
    cl.setErr(new PrintWriter(err2));
    assertEquals(2, cl.execute("serve"));
    assertTrue(err2.toString().contains("--port"), err2.toString());
  }
}
