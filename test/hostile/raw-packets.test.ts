/**
 * Malformed Engine.IO and Socket.io packets sent by hand, below socket.io-client, over a raw
 * WebSocket and over raw HTTP long-polling. Each one must end with that connection closed or
 * answered with an error, while the process keeps serving /health and a bystander connected
 * before the attack still gets acks and broadcasts.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startServer, type TestServer } from "../support/harness.js";
import { Bystanders, RawPolling, RawSocket } from "../support/raw-engine.js";

/** The packet size limit this server runs with; the oversized cases send well above it. */
const MAX_PAYLOAD_BYTES = 65_536;

describe("malformed packets below socket.io-client", () => {
  let server: TestServer;
  let bystanders: Bystanders;
  let roomId: string;
  let token: string;

  before(async () => {
    server = await startServer({ env: { MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES) } });
    bystanders = await Bystanders.join(server);
    roomId = bystanders.roomId;
    token = await server.token((await server.addUser("Raw Attacker")).id);
  });
  after(() => server.close());

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
        await bystanders.unaffected();
      });
    }

    test("a binary placeholder whose num points past its attachments closes that connection", async () => {
      const raw = await RawSocket.connected(server.port, token);
      raw.ws.send('451-["message:send",{"_placeholder":true,"num":7}]');
      raw.ws.send(Buffer.from([1, 2, 3]));
      await raw.closedByServer();
      await bystanders.unaffected();
    });

    test("an ack id far beyond any safe integer is answered under the id it became, and the socket keeps working", async () => {
      const raw = await RawSocket.connected(server.port, token);
      raw.ws.send('4299999999999999999999["room:list",{}]');
      // the parser reads the id as a JavaScript number (1e20, a whole number, so it is accepted):
      // the event runs once and its ack goes back under that number
      const ack = await raw.next((f) => f.startsWith("43"), "the ack of the huge id");
      assert.equal(ack.slice(0, 23), "43100000000000000000000", "the ack id is 1e20");
      assert.equal((JSON.parse(ack.slice(23)) as [{ ok: boolean }])[0].ok, true);
      raw.ws.send('427["room:list",{}]');
      await raw.next((f) => f.startsWith("437["), "the ack of the next event");
      assert.equal(raw.closed, false);
      raw.close();
      await bystanders.unaffected();
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
      await bystanders.unaffected();
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
        await bystanders.unaffected();
      });
    }

    test("a CONNECT to an unknown namespace is answered with a CONNECT_ERROR", async () => {
      const raw = await RawSocket.open(server.port);
      raw.ws.send(`40/admin,${JSON.stringify({ token })}`);
      const answer = await raw.next((f) => f.startsWith("44/admin,"), "a CONNECT_ERROR for /admin");
      assert.match(answer, /Invalid namespace/);
      raw.close();
      await bystanders.unaffected();
    });

    test("a CONNECT without a token is answered with a CONNECT_ERROR saying AUTH_REQUIRED", async () => {
      const raw = await RawSocket.open(server.port);
      raw.ws.send("40");
      const answer = await raw.next((f) => f.startsWith("44"), "a CONNECT_ERROR");
      assert.match(answer, /AUTH_REQUIRED/);
      raw.close();
      await bystanders.unaffected();
    });

    test("a frame above MAX_PAYLOAD_BYTES closes that connection", async () => {
      const raw = await RawSocket.connected(server.port, token);
      const body = "x".repeat(100_000);
      raw.ws.send(`42${JSON.stringify(["message:send", { roomId, body, clientId: "big" }])}`);
      await raw.closedByServer();
      await bystanders.unaffected();
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
        await bystanders.unaffected();
      });
    }

    test("an event posted before the namespace CONNECT ends the polling session unanswered", async () => {
      const polling = await RawPolling.open(server.url);
      await polling.postAndExpectClose('420["room:list",{}]', server);
      await bystanders.unaffected();
    });

    test("a binary placeholder with no attachment, followed by a text packet, ends the polling session", async () => {
      const polling = await RawPolling.open(server.url);
      await polling.connect(token);
      assert.equal(await polling.post('451-["message:send",{"_placeholder":true,"num":0}]'), 200);
      await polling.postAndExpectClose('42["room:list",{}]', server);
      await bystanders.unaffected();
    });

    test("a CONNECT to an unknown namespace over polling is answered with a CONNECT_ERROR", async () => {
      const polling = await RawPolling.open(server.url);
      assert.equal(await polling.post(`40/admin,${JSON.stringify({ token })}`), 200);
      assert.match((await polling.get()).text, /^44\/admin,.*Invalid namespace/);
      await bystanders.unaffected();
    });

    test("a POST to an unknown sid is refused with 400", async () => {
      const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=nope`, {
        method: "POST",
        body: "40",
      });
      assert.equal(res.status, 400);
      await res.body?.cancel();
      await bystanders.unaffected();
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
      await bystanders.unaffected();
    });
  });
});
