/**
 * Engine.IO spoken by hand, below socket.io-client: a raw WebSocket and a raw HTTP long-polling
 * session, for the tests that send packets the client library would never produce.
 */
import assert from "node:assert/strict";
import { WebSocket } from "ws";
import { request, type TestServer, until, waitFor } from "./harness.js";
import { group, clientId as newClientId, type Person, people } from "./rooms.js";

/** A WebSocket speaking Engine.IO by hand: records every text frame and answers pings. */
export class RawSocket {
  readonly frames: string[] = [];
  closed = false;
  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? "<binary>" : data.toString();
      // the server pings every 25 s; a pong keeps long cases from timing out for the wrong reason
      if (text === "2") ws.send("3");
      this.frames.push(text);
    });
    ws.on("close", () => {
      this.closed = true;
    });
    ws.on("error", () => {
      this.closed = true;
    });
  }

  /** Opens the WebSocket and waits for the Engine.IO open packet. */
  static async open(port: number): Promise<RawSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
    const raw = new RawSocket(ws);
    await raw.next((f) => f.startsWith("0{"), "the Engine.IO open packet");
    return raw;
  }

  /** Opens and joins the default namespace with a real token. */
  static async connected(port: number, token: string): Promise<RawSocket> {
    const raw = await RawSocket.open(port);
    raw.ws.send(`40${JSON.stringify({ token })}`);
    await raw.next((f) => f.startsWith("40{"), "the namespace CONNECT answer");
    return raw;
  }

  /** Resolves with the first frame (already received or still to come) that matches. */
  async next(match: (frame: string) => boolean, what: string, timeoutMs = 5000): Promise<string> {
    let found: string | undefined;
    await until(
      () => {
        found = this.frames.find(match);
        return found !== undefined;
      },
      timeoutMs,
      () => `${what}; got ${this.frames.join(" | ")}`,
    );
    return found!;
  }

  /** Resolves once the server closed the connection. */
  async closedByServer(timeoutMs = 5000): Promise<void> {
    await until(
      () => this.closed,
      timeoutMs,
      () => `the server to close the socket; got ${this.frames.join(" | ")}`,
    );
  }

  close(): void {
    this.ws.terminate();
  }
}

/** The part of an Engine.IO server-side socket the polling cases look at. */
interface EngineSocket {
  transport: { writable: boolean };
}

/** Long-polling by hand: an Engine.IO session over plain HTTP requests. */
export class RawPolling {
  private constructor(
    readonly base: string,
    readonly sid: string,
  ) {}

  static async open(url: string): Promise<RawPolling> {
    const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(res.status, 200);
    const text = await res.text();
    const sid = (JSON.parse(text.slice(1)) as { sid: string }).sid;
    return new RawPolling(url, sid);
  }

  private get path(): string {
    return `${this.base}/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(this.sid)}`;
  }

  /** POSTs packets; resolves with the status once the answer was read. */
  async post(body: string): Promise<number> {
    const res = await fetch(this.path, {
      method: "POST",
      body,
      headers: { "content-type": "text/plain;charset=UTF-8" },
    });
    await res.text();
    return res.status;
  }

  /** One long-poll GET; the server answers at once when packets wait (or the session ended). */
  async get(): Promise<{ status: number; text: string }> {
    const res = await fetch(this.path, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, text: await res.text() };
  }

  /** Joins the default namespace with a real token; returns once the `session` event was read. */
  async connect(token: string): Promise<void> {
    assert.equal(await this.post(`40${JSON.stringify({ token })}`), 200);
    let received = "";
    while (!received.includes('42["session"')) {
      const answer = await this.get();
      assert.equal(answer.status, 200, `namespace CONNECT answer: ${answer.text}`);
      received += answer.text;
    }
    assert.match(received, /^40\{/, `namespace CONNECT answer: ${received}`);
  }

  /**
   * Posts `packet` while a long-poll GET is waiting, and resolves with that GET's answer. With a GET
   * waiting, Engine.IO hands over its close packet at once; with none, it keeps the dead transport
   * for its 30 s closeTimeout, whose timer would hold this test process open that long.
   */
  async postWhileWaiting(packet: string, server: TestServer): Promise<{ status: number; text: string }> {
    const { answer } = await this.postEachWhileWaiting([packet], server);
    return answer;
  }

  /**
   * Posts each body in turn while one long-poll GET waits (or after it was answered with packets
   * that were already waiting), stopping at the first one refused (a
   * non-200 status); resolves with the statuses and that GET's answer.
   */
  async postEachWhileWaiting(
    bodies: readonly string[],
    server: TestServer,
  ): Promise<{ statuses: number[]; answer: { status: number; text: string } }> {
    let answered = false;
    const pending = this.get().finally(() => {
      answered = true;
    });
    // Engine.IO's session table is protected; reading it is the only way to know the GET arrived.
    // A GET is answered at once when packets were already waiting for it: then it never waits.
    const clients = (server.app.io.engine as unknown as { clients: Record<string, EngineSocket | undefined> })
      .clients;
    await until(
      () => answered || clients[this.sid]?.transport.writable === true,
      5000,
      "the long-poll GET to arrive",
    );
    const statuses: number[] = [];
    for (const body of bodies) {
      statuses.push(await this.post(body));
      if (statuses.at(-1) !== 200) break;
    }
    return { statuses, answer: await pending };
  }

  /** Posts `packet` and checks that Engine.IO closes the session: a close packet, then an unknown sid. */
  async postAndExpectClose(packet: string, server: TestServer): Promise<void> {
    const answer = await this.postWhileWaiting(packet, server);
    assert.ok(answer.text.split("\u001e").includes("1"), `no close packet: ${answer.status} ${answer.text}`);
    const after = await this.get();
    assert.equal(after.status, 400, `the session is still open: ${after.text}`);
  }
}

/** Two users chatting in a room of their own while someone else sends raw packets. */
export class Bystanders {
  private constructor(
    private readonly server: TestServer,
    private readonly ann: Person,
    private readonly bob: Person,
    readonly roomId: string,
  ) {}

  static async join(server: TestServer): Promise<Bystanders> {
    const [ann, bob] = (await people(server, 2, "Bystander")) as [Person, Person];
    return new Bystanders(server, ann, bob, (await group(ann, [bob], "Bystanders")).id);
  }

  /** The process still answers /health, and the bystanders still get acks and broadcasts. */
  async unaffected(): Promise<void> {
    const health = await fetch(`${this.server.url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
    assert.equal(this.ann.socket.connected, true, "the bystander's socket is still connected");
    const clientId = newClientId();
    const heard = waitFor(this.bob.socket, "message:new", (m) => m.clientId === clientId);
    const ack = await request(this.ann.socket, "message:send", {
      roomId: this.roomId,
      body: "still here",
      clientId,
    });
    assert.equal(ack.ok, true, `the bystander's send is acknowledged: ${JSON.stringify(ack)}`);
    assert.equal((await heard).body, "still here");
  }
}
