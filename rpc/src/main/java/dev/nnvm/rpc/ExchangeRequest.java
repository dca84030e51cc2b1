package dev.nnvm.rpc;

import dev.nnvm.arrow.NullPolicy;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.apache.arrow.flight.FlightDescriptor;

/**
 * What a scoring exchange asks for, carried in its descriptor: the model's
 * hash and the null policy (null rows give null outputs by default; STRICT
 * fails the call naming the row and column).
 *
 * @param model the model's hash
 * @param nullPolicy {@code NULL_OUTPUT} or {@code STRICT}; null means {@code NULL_OUTPUT}
 */
public record ExchangeRequest(String model, NullPolicy nullPolicy) {
  public ExchangeRequest {
    Objects.requireNonNull(model, "model");
    nullPolicy = nullPolicy == null ? NullPolicy.NULL_OUTPUT : nullPolicy;
  }

  /** The descriptor a client opens the exchange with (a command holding this request as JSON). */
  public FlightDescriptor descriptor() {
    return FlightDescriptor.command(FlightProtocol.toJson(this));
  }

  /**
   * Reads a descriptor: a path whose one element is the model's hash, or a command holding this request as JSON.
   *
   * @throws IllegalArgumentException saying what the descriptor holds instead
   */
  public static ExchangeRequest parse(FlightDescriptor descriptor) {
    if (descriptor == null) {
      throw new IllegalArgumentException("the exchange has no descriptor; send the model's hash as its path");
    }
    if (descriptor.isCommand()) {
      ExchangeRequest r = FlightProtocol.fromJson(descriptor.getCommand(), ExchangeRequest.class);
      if (r.model() == null || r.model().isBlank()) {
        throw new IllegalArgumentException("the exchange command names no model: "
            + new String(descriptor.getCommand(), StandardCharsets.UTF_8));
      }
      return r;
    }
    if (descriptor.getPath().size() != 1) {
      throw new IllegalArgumentException("the exchange path must be one element, the model's hash; got "
          + descriptor.getPath());
    }
    return new ExchangeRequest(descriptor.getPath().get(0), NullPolicy.NULL_OUTPUT);
  }
}
