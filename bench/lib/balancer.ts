/**
 * A TCP load balancer on 127.0.0.1, the way nginx's `stream` or HAProxy's `mode tcp` spreads
 * WebSocket clients: each new connection goes to the next node in turn, and a node that refuses
 * the connection (it died) is skipped for the next one. Open connections are spliced as they are;
 * when a node dies its clients see their connection end and connect again, to a node that is left.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

export class Balancer {
  port = 0;
  /** connections each node took, in the nodes' order */
  readonly accepted: number[];
  private server: Server | null = null;
  private next = 0;
  private readonly open = new Set<Socket>();

  constructor(private readonly nodes: readonly { host: string; port: number }[]) {
    this.accepted = nodes.map(() => 0);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    const server = createServer((client) => {
      client.pause(); // what the client sends waits until a node took the connection
      client.on("error", () => client.destroy()); // a client that resets before its node answered
      this.track(client);
      this.route(client, this.next++ % this.nodes.length, 0);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /**
   * Tries node `first`; on a refusal, the one after it, until each was tried once. The retry
   * follows from `first`, not from the shared turn counter: other connections move that counter
   * meanwhile, and could send this one back to the dead node.
   */
  private route(client: Socket, first: number, tried: number): void {
    if (client.destroyed) return;
    if (tried >= this.nodes.length) {
      client.destroy();
      return;
    }
    const index = (first + tried) % this.nodes.length;
    const node = this.nodes[index]!;
    const upstream = tcpConnect(node.port, node.host);
    const refused = () => this.route(client, first, tried + 1);
    upstream.once("error", refused);
    upstream.once("connect", () => {
      upstream.off("error", refused);
      this.accepted[index]!++;
      this.track(upstream);
      upstream.on("error", () => client.destroy());
      upstream.on("close", () => client.destroy());
      client.on("close", () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }

  private track(socket: Socket): void {
    socket.setNoDelay(true);
    this.open.add(socket);
    socket.on("close", () => this.open.delete(socket));
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.open) s.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
