/**
 * Malformed Engine.IO and Socket.io packets sent by hand, below socket.io-client, over a raw
 * WebSocket and over raw HTTP long-polling. Each one must end with that connection closed or
 * answered with an error, while the process keeps serving /health and a bystander connected
 * before the attack still gets acks and broadcasts.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { WebSocket } from "ws";
import { group, clientId as newClientId, type Person, people } from "../support/rooms.js";
import { request, startServer, type TestServer, until, waitFor } from "../support/server.js";

/** The packet size limit this server runs with; the oversized cases send well above it. */
const MAX_PAYLOAD_BYTES = 65_536;

/** A WebSocket speaking Engine.IO by hand: records every text frame and answers pings. */
class RawSocket {
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
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found !== undefined) return found;
      if (Date.now() > deadline)
        throw new Error(`no ${what} within ${timeoutMs} ms; got ${this.frames.join(" | ")}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Resolves once the server closed the connection. */
  async closedByServer(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline)
        throw new Error(`the server kept the socket open; got ${this.frames.join(" | ")}`);
      await new Promise((r) => setTimeout(r, 10));
    }
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
class RawPolling {
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
    const pending = this.get();
    // Engine.IO's session table is protected; reading it is the only way to know the GET arrived
    const clients = (server.app.io.engine as unknown as { clients: Record<string, EngineSocket | undefined> })
      .clients;
    await until(() => clients[this.sid]?.transport.writable === true, 5000, "the long-poll GET to arrive");
    await this.post(packet);
    return pending;
  }

  /** Posts `packet` and checks that Engine.IO closes the session: a close packet, then an unknown sid. */
  async postAndExpectClose(packet: string, server: TestServer): Promise<void> {
    const answer = await this.postWhileWaiting(packet, server);
    assert.ok(answer.text.split("\u001e").includes("1"), `no close packet: ${answer.status} ${answer.text}`);
    const after = await this.get();
    assert.equal(after.status, 400, `the session is still open: ${after.text}`);
  }
}

describe("malformed packets below socket.io-client", () => {
  let server: TestServer;
  let ann: Person;
  let bob: Person;
  let roomId: string;
  let token: string;

  before(async () => {
    server = await startServer({ env: { MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES) } });
    [ann, bob] = (await people(server, 2, "Bystander")) as [Person, Person];
    roomId = (await group(ann, [bob], "Bystanders")).id;
    token = await server.token((await server.addUser("Raw Attacker")).id);
  });
  after(() => server.close());

  /** The process still answers /health, and the bystanders still get acks and broadcasts. */
  async function othersUnaffected(): Promise<void> {
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });
    assert.equal(ann.socket.connected, true, "the bystander's socket is still connected");
    const clientId = newClientId();
    const heard = waitFor(bob.socket, "message:new", (m) => m.clientId === clientId);
    const ack = await request(ann.socket, "message:send", { roomId, body: "still here", clientId });
    assert.equal(ack.ok, true, `the bystander's send is acknowledged: ${JSON.stringify(ack)}`);
    assert.equal((await heard).body, "still here");
  }

  describe("over a raw WebSocket", () => {
    const closing: [string, string[]][] = [
      ["a truncated JSON event packet", ['42["message:send",{']],
      ["a packet of the unknown Engine.IO type 9", ["9"]],
      ["a message packet of the unknown Socket.io type x", ["4x"]],
      ["a Socket.io event whose data is not an array", ['42{"event":"room:list"}']],
      ["an event named after a reserved Socket.io event", ['42["disconnect"]']],
      ["an event with a negative ack id", ['42-1["room:list",{}]']],
      [
        "a binary placeholder with no attachment, followed by a text packet",
        ['451-["message:send",{"_placeholder":true,"num":0}]', '42["room:list",{}]'],
      ],
    ];
    for (const [name, packets] of closing) {
      test(`${name} closes that connection and nobody else notices`, async () => {
        const raw = await RawSocket.connected(server.port, token);
        for (const packet of packets) raw.ws.send(packet);
        await raw.closedByServer();
        await othersUnaffected();
      });
    }

    test("a binary placeholder whose num points past its attachments closes that connection", async () => {
      const raw = await RawSocket.connected(server.port, token);
      raw.ws.send('451-["message:send",{"_placeholder":true,"num":7}]');
      raw.ws.send(Buffer.from([1, 2, 3]));
      await raw.closedByServer();
      await othersUnaffected();
    });

    test("an ack id far beyond any safe integer is closed or answered, never crashes", async () => {
      const raw = await RawSocket.connected(server.port, token);
      raw.ws.send('4299999999999999999999["room:list",{}]');
      // either the parser refuses the id (close) or the event runs and its ack comes back
      const deadline = Date.now() + 5000;
      while (!raw.closed && !raw.frames.some((f) => f.startsWith("43"))) {
        assert.ok(Date.now() < deadline, `neither closed nor answered: ${raw.frames.join(" | ")}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      raw.close();
      await othersUnaffected();
    });

    test("an event whose name is a number is ignored and the socket keeps working", async () => {
      const raw = await RawSocket.connected(server.port, token);
      raw.ws.send("420[42,{}]");
      raw.ws.send('421["room:list",{}]');
      const ack = await raw.next((f) => f.startsWith("431"), "the ack of the next event");
      assert.equal((JSON.parse(ack.slice(3)) as [{ ok: boolean }])[0].ok, true);
      assert.ok(
        !raw.frames.some((f) => f.startsWith("430")),
        `the numeric event was answered: ${raw.frames}`,
      );
      raw.close();
      await othersUnaffected();
    });

    for (const packet of ['42["room:list"]', '420["room:list",{}]']) {
      test(`the event ${packet} sent before the namespace CONNECT closes the connection unanswered`, async () => {
        const raw = await RawSocket.open(server.port);
        raw.ws.send(packet);
        await raw.closedByServer();
        // Socket.io treats it as an invalid state: no handler ran, so no ack could leak data
        assert.ok(
          !raw.frames.some((f) => f.startsWith("43")),
          `an event before CONNECT was answered: ${raw.frames}`,
        );
        await othersUnaffected();
      });
    }

    test("a CONNECT to an unknown namespace is answered with a CONNECT_ERROR", async () => {
      const raw = await RawSocket.open(server.port);
      raw.ws.send(`40/admin,${JSON.stringify({ token })}`);
      const answer = await raw.next((f) => f.startsWith("44/admin,"), "a CONNECT_ERROR for /admin");
      assert.match(answer, /Invalid namespace/);
      raw.close();
      await othersUnaffected();
    });

    test("a CONNECT without a token is answered with a CONNECT_ERROR saying AUTH_REQUIRED", async () => {
      const raw = await RawSocket.open(server.port);
      raw.ws.send("40");
      const answer = await raw.next((f) => f.startsWith("44"), "a CONNECT_ERROR");
      assert.match(answer, /AUTH_REQUIRED/);
      raw.close();
      await othersUnaffected();
    });

    test("a frame above MAX_PAYLOAD_BYTES closes that connection", async () => {
      const raw = await RawSocket.connected(server.port, token);
      const body = "x".repeat(100_000);
      raw.ws.send(`42${JSON.stringify(["message:send", { roomId, body, clientId: "big" }])}`);
      await raw.closedByServer();
      await othersUnaffected();
    });
  });

  describe("over raw HTTP long-polling", () => {
    const closing: [string, string][] = [
      ["a truncated JSON event packet", '42["message:send",{'],
      ["a packet of the unknown Engine.IO type 9", "9"],
      ["a message packet of the unknown Socket.io type x", "4x"],
    ];
    for (const [name, packet] of closing) {
      test(`${name} ends that polling session and nobody else notices`, async () => {
        const polling = await RawPolling.open(server.url);
        await polling.connect(token);
        await polling.postAndExpectClose(packet, server);
        await othersUnaffected();
      });
    }

    test("an event posted before the namespace CONNECT ends the polling session unanswered", async () => {
      const polling = await RawPolling.open(server.url);
      await polling.postAndExpectClose('420["room:list",{}]', server);
      await othersUnaffected();
    });

    test("a binary placeholder with no attachment, followed by a text packet, ends the polling session", async () => {
      const polling = await RawPolling.open(server.url);
      await polling.connect(token);
      assert.equal(await polling.post('451-["message:send",{"_placeholder":true,"num":0}]'), 200);
      await polling.postAndExpectClose('42["room:list",{}]', server);
      await othersUnaffected();
    });

    test("a CONNECT to an unknown namespace over polling is answered with a CONNECT_ERROR", async () => {
      const polling = await RawPolling.open(server.url);
      assert.equal(await polling.post(`40/admin,${JSON.stringify({ token })}`), 200);
      assert.match((await polling.get()).text, /^44\/admin,.*Invalid namespace/);
      await othersUnaffected();
    });

    test("a POST to an unknown sid is refused with 400", async () => {
      const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=nope`, {
        method: "POST",
        body: "40",
      });
      assert.equal(res.status, 400);
      await res.body?.cancel();
      await othersUnaffected();
    });

    test("a POST body above MAX_PAYLOAD_BYTES is refused with 413 and its packets are dropped", async () => {
      const polling = await RawPolling.open(server.url);
      await polling.connect(token);
      const huge = `421${JSON.stringify(["message:send", { roomId, body: "y".repeat(100_000), clientId: "huge" }])}`;
      assert.equal(await polling.post(huge), 413);
      // Engine.IO drops the whole body and keeps the session: the next small request is served
      assert.equal(await polling.post('422["room:list",{}]'), 200);
      const answer = await polling.get();
      assert.match(answer.text, /^432\[\{"ok":true/, `answer: ${answer.text.slice(0, 200)}`);
      assert.ok(!answer.text.includes("431"), "the oversized event was not handled");
      await othersUnaffected();
    });
  });
});
