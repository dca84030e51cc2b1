package dev.nnvm.it.flink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.nnvm.flink.table.NnvmModelOptions;
import dev.nnvm.flink.table.NnvmModelProviderFactory;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.jar.JarFile;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.table.factories.Factory;
import org.apache.flink.table.factories.ModelProviderFactory;
import org.junit.jupiter.api.Test;

/**
 * The Flink connector as a user's job sees it on the class path: its jar (or
 * classes folder, in a reactor build that stops before packaging) carries
 * the factory service entry, Flink's factory discovery (ServiceLoader over
 * {@link Factory}) finds the {@code nnvm} model provider, and every option
 * has a description.
 */
class FlinkConnectorPackagingTest {
  private static final String SERVICE = "META-INF/services/" + Factory.class.getName();

  @Test
  void serviceEntryNamesTheModelProviderFactory() throws Exception {
    URL location = NnvmModelProviderFactory.class.getProtectionDomain().getCodeSource().getLocation();
    Path where = Path.of(location.toURI());
    String entry;
    if (Files.isDirectory(where)) {
      entry = Files.readString(where.resolve(SERVICE));
    } else {
      try (JarFile jar = new JarFile(where.toFile())) {
        assertTrue(jar.getEntry(SERVICE) != null, where + " has " + SERVICE);
        assertTrue(jar.getEntry(NnvmModelProviderFactory.class.getName().replace('.', '/') + ".class") != null);
        try (InputStream in = jar.getInputStream(jar.getEntry(SERVICE))) {
          entry = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
      }
    }
    System.out.println("connector at " + where + "; " + SERVICE + ": " + entry.trim());
    assertTrue(entry.lines().map(String::trim).anyMatch(NnvmModelProviderFactory.class.getName()::equals), entry);

    List<Factory> found = new ArrayList<>();
    for (Factory f : ServiceLoader.load(Factory.class)) {
      if (f.factoryIdentifier().equals(NnvmModelProviderFactory.IDENTIFIER)) {
        found.add(f);
      }
    }
    assertEquals(1, found.size(), "one factory named 'nnvm'");
    assertTrue(found.get(0) instanceof ModelProviderFactory);
    List<ConfigOption<?>> options = new ArrayList<>(found.get(0).requiredOptions());
    options.addAll(found.get(0).optionalOptions());
    assertTrue(options.contains(NnvmModelOptions.PATH));
    for (ConfigOption<?> o : options) {
      assertTrue(o.description() != null && !o.description().toString().isBlank(), o.key() + " is documented");
    }
  }
}
