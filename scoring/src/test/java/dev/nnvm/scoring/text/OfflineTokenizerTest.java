package dev.nnvm.scoring.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * DJL loads its bundled native library with no network: a fresh JVM (so that
 * its first tokenizer is the one watched), an empty {@code java.io.tmpdir},
 * and none of DJL's settings in the environment, as on a new worker. The
 * probe ({@link OfflineProbe}) refuses and records every socket connection.
 */
class OfflineTokenizerTest {
  private static final List<String> DJL_VARIABLES = List.of("DJL_OFFLINE", "DJL_CACHE_DIR", "ENGINE_CACHE_DIR",
      "RUST_FLAVOR", "RUST_LIBRARY_PATH", "OPT_OUT_TRACKING");

  private static String probe(Path tmp, String... flags) throws Exception {
    List<String> command = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java")
        .toString(), "-cp", System.getProperty("java.class.path"), "-Djava.io.tmpdir=" + tmp,
        "-Duser.home=" + tmp.resolve("home")));
    command.addAll(List.of(flags));
    command.add(OfflineProbe.class.getName());
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    DJL_VARIABLES.forEach(pb.environment()::remove);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    System.out.println(out);
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains("ids: [101, 7592, 1010, 2088, 1012, 102]"), out);
    return out;
  }

  @Test
  @Timeout(120)
  void aFreshJvmBuildsTheTokenizerWithoutTouchingTheNetwork(@TempDir Path tmp) throws Exception {
    String out = probe(tmp);
    assertTrue(out.contains("connection attempts: 0 []"), out);
    assertTrue(out.contains("recorder self-check: 1 "), "the recorder sees a connection: " + out);
    String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
    Path cache = tmp.resolve("nnvm-djl-" + user).resolve("tokenizers");
    assertTrue(out.contains("native library: " + cache), "extracted from the jar under java.io.tmpdir: " + out);
    assertTrue(Files.isDirectory(cache));
    assertFalse(Files.exists(tmp.resolve("home").resolve(".djl.ai")), "nothing written to the home directory");
  }

  /**
   * Why the settings exist: with offline mode and the tracking opt-out turned
   * back off, DJL 0.38's first tokenizer asks the EC2 metadata service
   * (169.254.169.254) for an instance id to report telemetry.
   */
  @Test
  @Timeout(120)
  void withoutTheSettingsDjlWouldCallOut(@TempDir Path tmp) throws Exception {
    String out = probe(tmp, "-Dai.djl.offline=false", "-DOPT_OUT_TRACKING=false");
    assertFalse(out.contains("connection attempts: 0 []"), out);
    assertTrue(out.contains("169.254.169.254"), out);
  }
}
