package dev.nnvm.compiler.cli;

import dev.nnvm.compiler.ir.ModelException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * The {@code nnvmc} command line.
 *
 * <p>Exit codes: 0 on success, 1 when the command failed (a bad model or
 * input, a missing file), 2 when the command line itself is wrong. Errors are
 * one line on stderr; {@code -v/--verbose} adds the stack trace.
 */
@Command(name = "nnvmc", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = "NNVM for the JVM: compile, run, benchmark, inspect and export ONNX models.",
    subcommands = {CompileCommand.class, RunCommand.class, BenchCommand.class, InspectCommand.class,
        ExportCommand.class})
public final class Nnvmc implements Runnable {
  static final int EXIT_FAILED = 1;
  static final int EXIT_USAGE = 2;

  @Spec
  private CommandSpec spec;

  @Mixin
  private VerboseOption verbose;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "missing command (try 'nnvmc run --help')");
  }

  /** The rpc module's model server command, added when that module is on the class path. */
  static final String SERVE_COMMAND = "dev.nnvm.rpc.cli.ServeCommand";

  /** The configured command line: error handlers and exit codes set, output streams left to the caller. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Nnvmc());
    // The compiler does not depend on the rpc module (and its gRPC stack): serve is there only when it is.
    Object serve;
    try {
      serve = Class.forName(SERVE_COMMAND).getConstructor().newInstance();
    } catch (ClassNotFoundException e) {
      serve = new ServeUnavailable();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot create " + SERVE_COMMAND + ": " + e, e);
    }
    cl.addSubcommand("serve", serve);
    cl.setExecutionExceptionHandler(new OneLineErrors());
    cl.setParameterExceptionHandler(new OneLineUsageErrors());
    return cl;
  }

  public static void main(String[] args) {
    configureLogging(Arrays.asList(args).contains("-v") || Arrays.asList(args).contains(VerboseOption.NAME));
    if (args.length > 0 && args[0].equals("serve")
        && System.getProperty("org.slf4j.simpleLogger.log.dev.nnvm") == null) {
      System.setProperty("org.slf4j.simpleLogger.log.dev.nnvm", "info"); // the server's request and model log
    }
    System.exit(commandLine().execute(args));
  }

  /**
   * SLF4J's simple logger reads its settings once, when the first logger is
   * made, so they are set here before parsing: warnings only, or debug with
   * {@code --verbose}. Settings given with {@code -D} win.
   */
  private static void configureLogging(boolean verbose) {
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "debug" : "warn");
    }
    if (System.getProperty("org.slf4j.simpleLogger.showThreadName") == null) {
      System.setProperty("org.slf4j.simpleLogger.showThreadName", "false");
    }
  }

  static boolean verbose(ParseResult result) {
    for (ParseResult r = result; r != null; r = r.subcommand()) {
      if (r.hasMatchedOption(VerboseOption.NAME)) {
        return true;
      }
    }
    return false;
  }

  /** Failures while a command runs: one line naming the problem, the trace only with --verbose. */
  private static final class OneLineErrors implements IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception e, CommandLine cl, ParseResult result) {
      PrintWriter err = cl.getErr();
      err.println("nnvmc " + cl.getCommandName() + ": " + describe(e, verbose(result)));
      if (verbose(result)) {
        e.printStackTrace(err);
      }
      err.flush();
      return EXIT_FAILED;
    }

    private static String describe(Exception e, boolean verbose) {
      if (e instanceof CliException || e instanceof ModelException) {
        return e.getMessage();
      }
      if (e instanceof IOException || e instanceof UncheckedIOException) {
        return "I/O error: " + e.getMessage();
      }
      return "internal error: " + e + (verbose ? "" : " (run with --verbose for the stack trace)");
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
