package dev.nnvm.flink.stream;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.apache.flink.util.ExceptionUtils;
import org.junit.jupiter.api.function.Executable;

/**
 * The message of the exception a failing job reports. The job always fails, but which failure Flink reports as
 * its cause can race: the task's own exception, or a source coordinator's event that the failed task no longer
 * takes ("An OperatorEvent ... was lost"); so the job runs up to {@code attempts} times until one report carries
 * an exception of the type asked for.
 */
final class JobFailures {
  private JobFailures() {}

  static String message(int attempts, Executable job, Class<? extends Throwable> type) {
    for (int attempt = 0; attempt < attempts; attempt++) {
      Throwable e = assertThrows(Throwable.class, job, "the job fails");
      String message = ExceptionUtils.findThrowable(e, type).map(Throwable::getMessage).orElse(null);
      if (message != null) {
        return message;
      }
      System.out.println("attempt " + attempt + ": the job reported another cause: " + e);
    }
    throw new AssertionError("no run of the job reported a " + type.getSimpleName());
  }
}
