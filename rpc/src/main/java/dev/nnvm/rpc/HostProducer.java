package dev.nnvm.rpc;

import java.util.List;
import org.apache.arrow.flight.Action;
import org.apache.arrow.flight.ActionType;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.FlightRuntimeException;
import org.apache.arrow.flight.FlightStream;
import org.apache.arrow.flight.NoOpFlightProducer;
import org.apache.arrow.flight.Result;

/**
 * The Flight face of a {@link ModelHost}: actions become host calls with
 * JSON answers ({@link FlightProtocol}), exchanges become
 * {@link ScoringExchange}s. Every other Flight method is left unimplemented.
 */
final class HostProducer extends NoOpFlightProducer {
  private static final List<ActionType> ACTIONS = List.of(
      new ActionType(FlightProtocol.UPLOAD, "load a .nnvm artifact (the body); answers its ModelInfo as JSON"),
      new ActionType(FlightProtocol.UPLOAD_SIGNED, "load an artifact signed with the server's upload key: the"
          + " body is HMAC-SHA256(key, artifact) (32 bytes), then the artifact"),
      new ActionType(FlightProtocol.LIST, "the loaded models as JSON {\"models\": [...]}"),
      new ActionType(FlightProtocol.DESCRIBE, "one model: body {\"hash\": \"...\"}; answers its ModelInfo"),
      new ActionType(FlightProtocol.UNLOAD, "unload a model: body {\"hash\": \"...\"}"),
      new ActionType(FlightProtocol.BENCHMARK, "time warm runs: body {\"hash\", \"dims\", \"warmup\", \"runs\","
          + " \"threads\", \"seed\"}; answers median and p90 in ms"));

  private final ModelHost host;

  HostProducer(ModelHost host) {
    this.host = host;
  }

  @Override
  public void listActions(CallContext context, StreamListener<ActionType> listener) {
    ACTIONS.forEach(listener::onNext);
    listener.onCompleted();
  }

  @Override
  public void doAction(CallContext context, Action action, StreamListener<Result> listener) {
    try {
      host.enter();
    } catch (FlightRuntimeException e) {
      listener.onError(e);
      return;
    }
    try {
      listener.onNext(new Result(FlightProtocol.toJson(answer(action))));
      listener.onCompleted();
    } catch (FlightRuntimeException e) {
      listener.onError(e);
    } catch (IllegalArgumentException e) {
      listener.onError(CallStatus.INVALID_ARGUMENT.withDescription(action.getType() + ": " + e.getMessage())
          .withCause(e).toRuntimeException());
    } catch (RuntimeException | Error e) {
      listener.onError(CallStatus.INTERNAL.withDescription(action.getType() + " failed on the server: " + e)
          .withCause(e).toRuntimeException());
    } finally {
      host.exit();
    }
  }

  private Object answer(Action action) {
    byte[] body = action.getBody();
    switch (action.getType()) {
      case FlightProtocol.UPLOAD:
        return host.upload(body);
      case FlightProtocol.UPLOAD_SIGNED:
        return host.uploadSigned(body);
      case FlightProtocol.LIST:
        return new FlightProtocol.ModelList(host.list());
      case FlightProtocol.DESCRIBE:
        return host.describe(FlightProtocol.fromJson(body, FlightProtocol.HashRequest.class).hash());
      case FlightProtocol.UNLOAD: {
        String hash = FlightProtocol.fromJson(body, FlightProtocol.HashRequest.class).hash();
        host.unload(hash);
        return new FlightProtocol.UnloadResult(hash, true);
      }
      case FlightProtocol.BENCHMARK:
        return host.benchmark(FlightProtocol.fromJson(body, BenchmarkRequest.class));
      default:
        throw CallStatus.INVALID_ARGUMENT.withDescription("unknown action '" + action.getType() + "'; this server"
            + " knows " + ACTIONS.stream().map(ActionType::getType).toList()).toRuntimeException();
    }
  }

  @Override
  public void doExchange(CallContext context, FlightStream reader, ServerStreamListener writer) {
    new ScoringExchange(host, reader, writer).run();
  }
}
