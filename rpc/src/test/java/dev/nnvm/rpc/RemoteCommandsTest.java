package dev.nnvm.rpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.cli.Nnvmc;
import dev.nnvm.rpc.cli.ServeCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code nnvmc run|bench MODEL --remote grpc://...} against a server in this JVM: the command line finds the
 * Flight engine through {@code ServiceLoader}, the remote run writes the same output files, byte for byte, as
 * the local run on the same seeded random inputs, the remote benchmark reports the server's timing, a wrong
 * token is a one-line refusal; with the rpc module on the class path {@code nnvmc serve} is its server command.
 */
class RemoteCommandsTest {
  private record Result(int code, String out, String err) {}

  private static Result nnvmc(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Nnvmc.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void runAndBenchOnAServerMatchTheLocalRun(@TempDir Path dir) throws Exception {
    assertTrue(Nnvmc.commandLine().getSubcommands().get("serve").getCommand() instanceof ServeCommand,
        "nnvmc serve is the rpc module's command when the module is on the class path");
    Path model = dir.resolve("dense.nnvm");
    Files.write(model, TestModels.dense(0));
    Path token = dir.resolve("token");
    Files.writeString(token, "remote-commands-token\n");
    try (NnvmFlightServer server = NnvmFlightServer.start(ServerOptions.builder().port(0)
        .token("remote-commands-token").build())) {
      String uri = server.uri().toString();
      Result remote = nnvmc("run", model.toString(), "--remote", uri, "--token-file", token.toString(),
          "--random-inputs", "--dim", "N=7", "--seed", "20261206", "--output-dir", dir.resolve("remote").toString());
      assertEquals(0, remote.code, remote.err);
      assertTrue(remote.out.contains("running model 'dense0'") && remote.out.contains(uri), remote.out);
      Result local = nnvmc("run", model.toString(), "--random-inputs", "--dim", "N=7", "--seed", "20261206",
          "--output-dir", dir.resolve("local").toString());
      assertEquals(0, local.code, local.err);
      List<Path> files = new ArrayList<>();
      try (Stream<Path> s = Files.list(dir.resolve("local"))) {
        s.forEach(files::add);
      }
      List<Path> remoteFiles = new ArrayList<>();
      try (Stream<Path> s = Files.list(dir.resolve("remote"))) {
        s.forEach(remoteFiles::add);
      }
      assertEquals(files.stream().map(Path::getFileName).sorted().toList(),
          remoteFiles.stream().map(Path::getFileName).sorted().toList(), "the same output files");
      assertTrue(!files.isEmpty());
      for (Path f : files) {
        assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(dir.resolve("remote").resolve(f.getFileName())),
            f.getFileName() + ": the remote run's output file equals the local one");
      }
      System.out.print(remote.out);

      Result bench = nnvmc("bench", model.toString(), "--remote", uri, "--token-file", token.toString(), "--dim",
          "N=16", "--warmup", "1", "--runs", "5");
      assertEquals(0, bench.code, bench.err);
      assertTrue(bench.out.contains("timed on the server") && bench.out.contains("latency: median"), bench.out);
      System.out.print(bench.out);

      Path wrong = dir.resolve("wrong");
      Files.writeString(wrong, "not-the-token");
      Result refused = nnvmc("run", model.toString(), "--remote", uri, "--token-file", wrong.toString(),
          "--random-inputs", "--dim", "N=2");
      assertEquals(1, refused.code);
      assertTrue(refused.err.contains("UNAUTHENTICATED") && refused.err.lines().count() == 1, refused.err);
      Result variant = nnvmc("run", model.toString(), "--remote", uri, "--variant", "x86-64", "--random-inputs",
          "--dim", "N=2");
      assertEquals(1, variant.code);
      assertTrue(variant.err.contains("--variant does not go with --remote"), variant.err);
    }
  }
}
