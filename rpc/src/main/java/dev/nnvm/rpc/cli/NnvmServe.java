package dev.nnvm.rpc.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * The rpc module's own entry point: {@code java -cp ... dev.nnvm.rpc.cli.NnvmServe serve --port 0}
 * runs {@link ServeCommand} (the command {@code nnvmc serve} is meant to be).
 *
 * <p>Exit codes: 0 after a clean shutdown, 1 when serving failed (a port in
 * use, unreadable TLS files), 2 for a wrong command line (including a bind
 * beyond loopback without a token). Errors are one line on stderr.
 */
public final class NnvmServe {
  static final int EXIT_FAILED = 1;
  static final int EXIT_USAGE = 2;

  private NnvmServe() {}

  /** The configured command line: {@code nnvm [serve ...]}, one-line errors and exit codes. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Root());
    cl.addSubcommand(new ServeCommand());
    cl.setExecutionExceptionHandler(new OneLineErrors());
    cl.setParameterExceptionHandler(new OneLineUsageErrors());
    return cl;
  }

  public static void main(String[] args) {
    boolean verbose = Arrays.asList(args).contains("-v") || Arrays.asList(args).contains("--verbose");
    setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "debug" : "warn");
    setIfAbsent("org.slf4j.simpleLogger.log.dev.nnvm", verbose ? "debug" : "info");
    setIfAbsent("org.slf4j.simpleLogger.showDateTime", "true");
    setIfAbsent("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSX");
    setIfAbsent("org.slf4j.simpleLogger.showThreadName", "false");
    if (verbose) {
      System.setProperty("nnvm.verbose", "true");
    }
    System.exit(commandLine().execute(Arrays.stream(args).filter(a -> !a.equals("-v") && !a.equals("--verbose"))
        .toArray(String[]::new)));
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }

  @CommandLine.Command(name = "nnvm",
      description = "NNVM remote runtime over Arrow Flight (-v/--verbose: debug log and stack traces).")
  static final class Root implements Runnable {
    @CommandLine.Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      throw new ParameterException(spec.commandLine(), "missing command (try 'serve --help')");
    }
  }

  private static final class OneLineErrors implements IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception e, CommandLine cl, ParseResult result) {
      if (e instanceof ParameterException p) {
        return new OneLineUsageErrors().handleParseException(p, new String[0]);
      }
      PrintWriter err = cl.getErr();
      String why = e instanceof IOException || e instanceof UncheckedIOException ? "I/O error: " + e.getMessage()
          : e.getMessage() == null ? e.toString() : e.getMessage();
      err.println("nnvm " + cl.getCommandName() + ": " + why);
      if (Boolean.getBoolean("nnvm.verbose")) {
        e.printStackTrace(err);
      }
      err.flush();
      return EXIT_FAILED;
    }
  }

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
