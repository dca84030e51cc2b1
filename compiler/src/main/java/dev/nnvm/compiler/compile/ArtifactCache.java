package dev.nnvm.compiler.compile;

import dev.nnvm.runtime.artifact.ArtifactException;
import dev.nnvm.runtime.artifact.ArtifactReader;
import dev.nnvm.runtime.artifact.ModelArtifact;
import dev.nnvm.runtime.artifact.Sha256;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Objects;
import java.util.Optional;

/**
 * Compiled artifacts on disk, one file {@code <key>.nnvm} per (model hash,
 * targets, options, compiler version and build), so compiling the same model again is
 * a file read. Entries are written to a temporary file and renamed into
 * place, so a reader never sees half a file; an entry that fails
 * verification is treated as missing (and replaced by the next store).
 */
public final class ArtifactCache {
  private final Path directory;

  public ArtifactCache(Path directory) {
    this.directory = Objects.requireNonNull(directory, "directory");
  }

  /** {@code ~/.cache/nnvm}. */
  public static Path defaultDirectory() {
    return Path.of(System.getProperty("user.home"), ".cache", "nnvm");
  }

  public Path directory() {
    return directory;
  }

  /** The key of a compile: SHA-256 over the parts that decide the artifact's content. */
  public static String key(String modelSha256, String targets, String options) {
    String text = "nnvm compile cache 1\ncompiler " + CompilerVersion.current() + " build "
        + CompilerVersion.buildFingerprint() + "\nmodel " + modelSha256
        + "\ntargets " + targets + "\noptions " + options + "\n";
    return Sha256.of(text.getBytes(StandardCharsets.UTF_8));
  }

  /** The file of an entry. */
  public Path file(String key) {
    return directory.resolve(key + ".nnvm");
  }

  /** A cached artifact's bytes, verified; empty when there is none or it is damaged. */
  public Optional<Entry> get(String key) {
    Path file = file(key);
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the cached artifact " + file + ": " + e.getMessage(), e);
    }
    try {
      return Optional.of(new Entry(file, bytes, ArtifactReader.read(bytes)));
    } catch (ArtifactException e) {
      return Optional.empty();
    }
  }

  /** Stores an artifact's bytes under a key, replacing what was there. */
  public Path put(String key, byte[] bytes) {
    Path file = file(key);
    try {
      Files.createDirectories(directory);
      Path tmp = Files.createTempFile(directory, key, ".tmp");
      try {
        Files.write(tmp, bytes);
        try {
          Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the compile cache entry " + file + ": " + e.getMessage(), e);
    }
    return file;
  }

  /** A cache hit: its file, bytes and the artifact read from them. */
  public record Entry(Path file, byte[] bytes, ModelArtifact artifact) {}
}
