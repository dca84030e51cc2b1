package dev.nnvm.compiler.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.compiler.compile.CompileOptions;
import dev.nnvm.compiler.compile.ModelCompiler;
import dev.nnvm.compiler.text.GraphParser;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Without the rpc module on the class path (the compiler's own tests): {@code nnvmc serve} and
 * {@code --remote grpc://...} say what to build, in one line, instead of failing oddly; {@code --remote} with a
 * URI no engine takes is refused naming it. The remote runs themselves are tested in the rpc module.
 */
class RemoteOptionTest {
  private static String[] run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = Nnvmc.commandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    return new String[] {Integer.toString(cl.execute(args)), out.toString(), err.toString()};
  }

  @Test
  void withoutTheRpcModuleServeAndRemoteSayWhatToBuild(@TempDir Path dir) throws Exception {
    String[] serve = run("serve", "--port", "0");
    assertEquals("1", serve[0], serve[2]);
    assertTrue(serve[2].contains("serve needs the rpc module"), serve[2]);
    Path model = dir.resolve("relu.nnvm");
    Files.write(model, ModelCompiler.create().compile(GraphParser.parse(
        "graph relu(%x: f32[N, 4]) -> (%y: f32[N, 4]) opset(ai.onnx=17) {\n  %y = Relu(%x)\n  return %y\n}\n"),
        CompileOptions.defaults()).bytes());
    String[] remote = run("run", model.toString(), "--remote", "grpc://127.0.0.1:1", "--random-inputs", "--dim",
        "N=2");
    assertEquals("1", remote[0], remote[2]);
    assertTrue(remote[2].contains("no remote engine for 'grpc'") && remote[2].contains("rpc module"), remote[2]);
    String[] bench = run("bench", model.toString(), "--remote", "ftp://x", "--dim", "N=2");
    assertEquals("1", bench[0], bench[2]);
    assertTrue(bench[2].contains("no remote engine for 'ftp'"), bench[2]);
    System.out.println("without rpc: " + serve[2].strip() + " | " + remote[2].strip());
  }
}
