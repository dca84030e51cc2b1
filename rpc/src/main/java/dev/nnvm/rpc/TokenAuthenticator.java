package dev.nnvm.rpc;

import dev.nnvm.runtime.artifact.Sha256;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;
import org.apache.arrow.flight.CallHeaders;
import org.apache.arrow.flight.CallStatus;
import org.apache.arrow.flight.auth2.Auth2Constants;
import org.apache.arrow.flight.auth2.AuthUtilities;
import org.apache.arrow.flight.auth2.CallHeaderAuthenticator;

/**
 * Admits a call only when its {@code authorization} header is
 * {@code Bearer <the server's token>}. Both tokens are hashed with SHA-256
 * first and the digests compared with {@link MessageDigest#isEqual}, so the
 * time taken says nothing about how much of a guess was right, nor about the
 * token's length.
 */
final class TokenAuthenticator implements CallHeaderAuthenticator {
  private final byte[] expected;

  TokenAuthenticator(String token) {
    this.expected = digest(Objects.requireNonNull(token, "token"));
  }

  @Override
  public AuthResult authenticate(CallHeaders headers) {
    String given = AuthUtilities.getValueFromAuthHeader(headers, Auth2Constants.BEARER_PREFIX);
    if (given == null) {
      throw CallStatus.UNAUTHENTICATED
          .withDescription("this server needs a bearer token ('authorization: Bearer <token>' header)")
          .toRuntimeException();
    }
    if (!MessageDigest.isEqual(expected, digest(given))) {
      throw CallStatus.UNAUTHENTICATED.withDescription("wrong bearer token").toRuntimeException();
    }
    return () -> "token";
  }

  private static byte[] digest(String token) {
    return Sha256.newDigest().digest(token.getBytes(StandardCharsets.UTF_8));
  }
}
