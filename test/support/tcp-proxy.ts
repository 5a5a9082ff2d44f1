import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a port, whose connections the test can cut at will: a flaky network between
 * the app and a host, with no process to kill on either side.
 */
export class TcpProxy {
  readonly #server: net.Server;
  readonly #pairs = new Set<[net.Socket, net.Socket]>();
  #accepted = 0;
  #cuts = 0;

  private constructor(server: net.Server) {
    this.#server = server;
  }

  /** `listenPort` 0 picks a free port; a port given again after {@link close} brings the "host" back. */
  static async start(targetPort: number, targetHost = '127.0.0.1', listenPort = 0): Promise<TcpProxy> {
    const server = net.createServer();
    const proxy = new TcpProxy(server);
    server.on('connection', (client) => {
      const upstream = net.connect(targetPort, targetHost);
      const pair: [net.Socket, net.Socket] = [client, upstream];
      proxy.#accepted += 1;
      proxy.#pairs.add(pair);
      const close = (): void => {
        proxy.#pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** Connections accepted so far. */
  get accepted(): number {
    return this.#accepted;
  }

  /** Cuts that closed at least one live connection. */
  get cuts(): number {
    return this.#cuts;
  }

  get open(): number {
    return this.#pairs.size;
  }

  /** Resets every live connection (both ends), as a dropped network would; returns how many were cut. */
  cut(): number {
    const pairs = [...this.#pairs];
    for (const [client, upstream] of pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.#pairs.clear();
    if (pairs.length > 0) this.#cuts += 1;
    return pairs.length;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
