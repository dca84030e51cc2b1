package dev.nnvm.spark.job;

import dev.nnvm.compiler.ir.ModelException;
import dev.nnvm.runtime.artifact.ArtifactException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * The batch-scoring and evaluation job, {@code bin/nnvm-spark} or
 * {@code spark-submit --class dev.nnvm.spark.job.NnvmSparkJob}:
 *
 * <pre>
 *   embed     text in, sentence embeddings out (tokenizer.json + BERT-style encoder + mean pooling)
 *   score     any model the compiler takes: columns (or a generated data set) in, model outputs out
 *   evaluate  score or embed, then accuracy / top-k against a label column or MSE / cosine against a
 *             reference column
 * </pre>
 *
 * <p>The model is compiled once on the driver (through the artifact cache) and its bytes are broadcast;
 * executors only load the artifact. Without {@code --master} and outside {@code spark-submit} the job runs
 * Spark in local mode on every core. Exit codes: 0 on success, 1 when the job failed, 2 for a wrong command
 * line; errors are one line on stderr, with the stack trace under {@code -v}.
 */
@Command(name = "nnvm-spark", mixinStandardHelpOptions = true, versionProvider = NnvmSparkJob.Version.class,
    description = "Score, embed and evaluate with NNVM-compiled models in Apache Spark.",
    subcommands = {EmbedCommand.class, ScoreCommand.class, EvaluateCommand.class})
public final class NnvmSparkJob implements Runnable {
  static final int EXIT_FAILED = 1;
  static final int EXIT_USAGE = 2;

  @Spec
  private CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "missing command: embed, score or evaluate");
  }

  /** The configured command line; streams are left to the caller. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new NnvmSparkJob());
    cl.setExecutionExceptionHandler(new OneLineErrors());
    cl.setParameterExceptionHandler(new OneLineUsageErrors());
    return cl;
  }

  /** Runs the job and returns its exit code (for tests and embedding; {@link #main} exits with it). */
  public static int run(String... args) {
    return commandLine().execute(args);
  }

  public static void main(String[] args) {
    boolean verbose = Arrays.asList(args).contains("-v") || Arrays.asList(args).contains("--verbose");
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "info" : "warn");
    }
    // Spark's own log4j2 defaults print every INFO line to the console; the job prints its own progress.
    // A configuration the user names (-Dlog4j2.configurationFile) wins.
    if (System.getProperty("log4j2.configurationFile") == null && !verbose) {
      System.setProperty("log4j2.configurationFile", "dev/nnvm/spark/job/log4j2-job.properties");
    }
    System.exit(run(args));
  }

  /** {@code --version}: the connector jar's version (from its manifest) and Spark's. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = NnvmSparkJob.class.getPackage().getImplementationVersion();
      return new String[] {"nnvm-spark " + (v == null ? "(development build)" : v) + ", Spark "
          + org.apache.spark.package$.MODULE$.SPARK_VERSION()};
    }
  }

  /** Failures while the job runs: one line naming the problem, the trace only with --verbose. */
  private static final class OneLineErrors implements IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception e, CommandLine cl, ParseResult result) {
      PrintWriter err = cl.getErr();
      boolean verbose = verbose(result);
      err.println("nnvm-spark " + cl.getCommandName() + ": " + describe(e, verbose));
      if (verbose) {
        e.printStackTrace(err);
      }
      err.flush();
      return EXIT_FAILED;
    }

    private static boolean verbose(ParseResult result) {
      for (ParseResult r = result; r != null; r = r.subcommand()) {
        if (r.hasMatchedOption("--verbose")) {
          return true;
        }
      }
      return false;
    }

    private static String describe(Throwable e, boolean verbose) {
      if (e instanceof JobException || e instanceof ModelException || e instanceof IllegalArgumentException
          || e instanceof ArtifactException) {
        return e.getMessage();
      }
      if (e instanceof IOException || e instanceof UncheckedIOException) {
        return "I/O error: " + e.getMessage();
      }
      // Spark wraps what a task threw; the first cause from our code or the bridge is what the user needs.
      for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
        if (c instanceof JobException || c instanceof IllegalArgumentException || c instanceof ModelException) {
          return c.getMessage();
        }
      }
      return e.getClass().getSimpleName() + ": " + e.getMessage()
          + (verbose ? "" : " (run with --verbose for the stack trace)");
    }
  }

  /** A wrong command line: one line with the problem and where to find help. */
  private static final class OneLineUsageErrors implements IParameterExceptionHandler {
    @Override
    public int handleParseException(ParameterException e, String[] args) {
      CommandLine cl = e.getCommandLine();
      PrintWriter err = cl.getErr();
      String path = cl.getCommandSpec().qualifiedName(" ");
      err.println(path + ": " + e.getMessage() + " (see '" + path + " --help')");
      err.flush();
      return EXIT_USAGE;
    }
  }
}
