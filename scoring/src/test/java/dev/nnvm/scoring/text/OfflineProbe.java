package dev.nnvm.scoring.text;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Proxy;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketImpl;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * Run in a fresh JVM by {@link OfflineTokenizerTest}: refuses and records every TCP connection the JVM tries
 * through {@link Socket} (which {@code HttpURLConnection} uses for HTTP and HTTPS, with or without a proxy),
 * while the JVM's first tokenizer is built and used; then checks that the recorder works, and prints what it saw
 * and where DJL put its native library.
 */
public final class OfflineProbe {
  private static final List<String> ATTEMPTS = new CopyOnWriteArrayList<>();

  private OfflineProbe() {}

  public static void main(String[] args) throws IOException {
    Socket.setSocketImplFactory(Refusing::new);
    byte[] json = TextFixtures.resource(TextFixtures.TOKENIZER);
    try (TextTokenizer t = TextTokenizer.fromBytes(json, 32)) {
      System.out.println("ids: " + Arrays.toString(t.encode(List.of("Hello, world.")).inputIds(0)));
    }
    System.out.println("connection attempts: " + ATTEMPTS.size() + " " + ATTEMPTS);
    try {
      new URL("http://127.0.0.1:9/").openConnection(Proxy.NO_PROXY).connect();
    } catch (IOException expected) {
      // refused by the recorder
    }
    System.out.println("recorder self-check: " + ATTEMPTS.size() + " " + ATTEMPTS);
    try (Stream<Path> files = Files.walk(DjlEnvironment.cacheDirectory())) {
      files.filter(p -> p.getFileName().toString().equals("libtokenizers.so"))
          .forEach(p -> System.out.println("native library: " + p));
    }
  }

  /** A socket that records where it was asked to connect and refuses. */
  private static final class Refusing extends SocketImpl {
    private ConnectException refuse(String where) {
      ATTEMPTS.add(where);
      return new ConnectException("connection to " + where + " refused by OfflineProbe");
    }

    @Override
    protected void create(boolean stream) {}

    @Override
    protected void connect(String host, int port) throws IOException {
      throw refuse(host + ":" + port);
    }

    @Override
    protected void connect(InetAddress address, int port) throws IOException {
      throw refuse(address + ":" + port);
    }

    @Override
    protected void connect(SocketAddress address, int timeout) throws IOException {
      throw refuse(String.valueOf(address));
    }

    @Override
    protected void bind(InetAddress host, int port) {}

    @Override
    protected void listen(int backlog) throws IOException {
      throw new IOException("no listening in the probe");
    }

    @Override
    protected void accept(SocketImpl s) throws IOException {
      throw new IOException("no accepting in the probe");
    }

    @Override
    protected InputStream getInputStream() throws IOException {
      throw new IOException("not connected");
    }

    @Override
    protected OutputStream getOutputStream() throws IOException {
      throw new IOException("not connected");
    }

    @Override
    protected int available() {
      return 0;
    }

    @Override
    protected void close() {}

    @Override
    protected void sendUrgentData(int data) throws IOException {
      throw new IOException("not connected");
    }

    @Override
    public void setOption(int optID, Object value) {}

    @Override
    public Object getOption(int optID) {
      return null;
    }
  }
}
