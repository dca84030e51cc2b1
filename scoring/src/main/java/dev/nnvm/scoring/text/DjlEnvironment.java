package dev.nnvm.scoring.text;

import java.nio.file.Path;
import java.nio.file.Paths;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps DJL off the network and out of the user's home directory. DJL reads its
 * settings from environment variables or system properties when its classes are
 * first used, so this runs before any of them loads:
 *
 * <ul>
 *   <li>offline mode ({@code ai.djl.offline=true}): with it DJL neither calls its
 *       telemetry endpoint (which first asks the EC2 metadata service) nor looks
 *       for a CUDA build of the tokenizer library, which it would download on a
 *       machine with a GPU, since the jar bundles CPU builds only;</li>
 *   <li>{@code RUST_FLAVOR=cpu} and {@code OPT_OUT_TRACKING=true}, the same two
 *       guarantees again for a JVM whose environment sets {@code DJL_OFFLINE=false};</li>
 *   <li>a cache directory under {@code java.io.tmpdir}, where DJL extracts the
 *       bundled {@code libtokenizers.so} once ({@code ENGINE_CACHE_DIR}).</li>
 * </ul>
 *
 * A setting the user gave (as an environment variable or system property) wins.
 */
final class DjlEnvironment {
  private static final Logger LOG = LoggerFactory.getLogger(DjlEnvironment.class);
  private static boolean done;

  private DjlEnvironment() {}

  /** Applies the settings (once per JVM); call before the first use of any DJL class. */
  static synchronized void configure() {
    if (done) {
      return;
    }
    done = true;
    if (System.getenv("DJL_OFFLINE") == null) {
      setIfAbsent("ai.djl.offline", "true");
    }
    setIfAbsent("RUST_FLAVOR", "cpu");
    setIfAbsent("OPT_OUT_TRACKING", "true");
    if (!isSet("DJL_CACHE_DIR")) {
      setIfAbsent("ENGINE_CACHE_DIR", cacheDirectory().toString());
    }
  }

  /** Where the native tokenizer library is extracted unless the user chose a DJL cache directory. */
  static Path cacheDirectory() {
    String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
    return Paths.get(System.getProperty("java.io.tmpdir"), "nnvm-djl-" + user);
  }

  private static boolean isSet(String name) {
    return System.getenv(name) != null || System.getProperty(name) != null;
  }

  private static void setIfAbsent(String name, String value) {
    if (!isSet(name)) {
      System.setProperty(name, value);
      LOG.debug("DJL setting {}={}", name, value);
    }
  }
}
