/**
 * A TCP proxy on 127.0.0.1 in front of a real server (in the tests, the real MariaDB), to play a
 * slow or absent database without touching the database itself: `delayMs` holds back its answers,
 * `close` cuts every connection and stops listening, and `listen` again (on the same port by
 * default) brings it back.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

/** Forwards a local port to `target`, holding back every answer (target → client) by `delayMs`. */
export class TcpProxy {
  /** How long each answer is held back; 0 passes it on at once. Read per chunk, so it can change mid-test. */
  delayMs = 0;
  /** The port it listens on; 0 until the first `listen`, then kept, so `listen()` after `close()` reuses it. */
  port = 0;
  private server: Server | null = null;
  private readonly open = new Set<Socket>();

  constructor(private readonly target: { host: string; port: number }) {}

  /** Listens on `port`: the one it had before, or one from the OS the first time. */
  async listen(port = this.port): Promise<void> {
    const server = createServer((client) => {
      const upstream = tcpConnect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.open.add(s);
        s.on("close", () => this.open.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      // answers keep their order: each chunk waits for the one before it, then for the delay
      let chain = Promise.resolve();
      upstream.on("data", (chunk: Buffer) => {
        const delay = this.delayMs;
        chain = chain.then(
          () =>
            new Promise<void>((resolve) => {
              const write = () => {
                if (!client.destroyed) client.write(chunk);
                resolve();
              };
              if (delay > 0) setTimeout(write, delay).unref();
              else write();
            }),
        );
      });
      upstream.on("end", () => void chain.then(() => client.end()));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Cuts every open connection and stops listening; the port is kept for the next `listen`. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.open) s.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
