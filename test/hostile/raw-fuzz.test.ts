/**
 * Random Engine.IO and Socket.io frames, below socket.io-client: generated packets with every
 * field drawn at random (Engine.IO type, Socket.io type, attachment count, namespace, ack id, data),
 * valid frames cut short or with characters changed, random text and random binary frames, over
 * a raw WebSocket and over raw HTTP long-polling. Whatever comes in, that connection must end up
 * closed or still working (a request sent after the noise is answered), no ack may say INTERNAL,
 * the process keeps serving, a bystander keeps chatting, and the heap stays flat.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { REQUEST_EVENTS } from "../../src/protocol/index.js";
import { startServer, type TestServer, until } from "../support/harness.js";
import { heapAfterGc } from "../support/heap.js";
import { Bystanders, RawPolling, RawSocket } from "../support/raw-engine.js";

const MAX_PAYLOAD_BYTES = 65_536;
/** The ack id of the request sent after the noise; generated ack ids stay below it. */
const PROBE_ID = 990_001;
const WEBSOCKET_RUNS = 120;
const POLLING_RUNS = 60;
const HEAP_GROWTH_LIMIT = 20 * 1024 * 1024;

const RECORD_SEPARATOR = "\u001e";

/** An event and a payload with the protocol's field names holding random values. */
function eventData(roomId: string): fc.Arbitrary<string> {
  return fc
    .constantFrom(...REQUEST_EVENTS)
    .chain((event) =>
      fc
        .dictionary(
          fc.constantFrom("roomId", "messageId", "body", "clientId", "userId", "limit", "__proto__"),
          fc.oneof(fc.constant(roomId), fc.jsonValue({ maxDepth: 2 })),
          { maxKeys: 4 },
        )
        .map((payload) => JSON.stringify([event, payload])),
    );
}

/** A well-formed event packet, with or without an ack id: it reaches the event handlers. */
function eventFrame(roomId: string): fc.Arbitrary<string> {
  return fc
    .tuple(fc.option(fc.nat(PROBE_ID - 1), { nil: undefined }), eventData(roomId))
    .map(([ackId, data]) => `42${ackId ?? ""}${data}`);
}

/** A frame the way Socket.io encodes one, with each field drawn at random (or left out). */
function structuredFrame(roomId: string): fc.Arbitrary<string> {
  const data = fc.oneof(
    fc.json({ maxDepth: 4 }),
    eventData(roomId),
    fc.string({ maxLength: 40 }),
    fc.constant('[{"_placeholder":true,"num":0}]'),
  );
  return fc
    .record({
      engine: fc.constantFrom("4", "4", "4", "0", "1", "2", "3", "5", "6", "7", "b", ""),
      socket: fc.constantFrom("0", "1", "2", "3", "4", "5", "6", "7", "x", ""),
      attachments: fc.option(fc.oneof(fc.nat(3), fc.constant(99_999_999)).map((n) => `${n}-`)),
      namespace: fc.option(fc.constantFrom("/", "/admin", "/,", "//", "/x/y", "/\u0000").map((n) => `${n},`)),
      ackId: fc.option(
        fc.oneof(fc.nat(PROBE_ID - 1), fc.constantFrom("99999999999999999999999", "-1", "1e9", "0x10")),
      ),
      data: fc.option(data),
    })
    .map(
      (f) =>
        `${f.engine}${f.socket}${f.attachments ?? ""}${f.namespace ?? ""}${f.ackId ?? ""}${f.data ?? ""}`,
    );
}

/** A valid request frame cut short, or with a character put in, taken out or changed. */
function mutatedFrame(roomId: string): fc.Arbitrary<string> {
  const valid = fc.constantFrom(
    `42["message:send",${JSON.stringify({ roomId, body: "hi", clientId: "fuzz" })}]`,
    '421["room:list",{}]',
    `42["message:history",${JSON.stringify({ roomId })}]`,
    `42["typing",${JSON.stringify({ roomId, typing: true })}]`,
  );
  return fc
    .tuple(
      valid,
      fc.nat(),
      fc.constantFrom("cut", "insert", "delete", "replace"),
      fc.string({ minLength: 1, maxLength: 3 }),
    )
    .map(([frame, at, how, text]) => {
      const i = at % frame.length;
      if (how === "cut") return frame.slice(0, i);
      if (how === "insert") return frame.slice(0, i) + text + frame.slice(i);
      if (how === "delete") return frame.slice(0, i) + frame.slice(i + 1);
      return frame.slice(0, i) + text + frame.slice(i + 1);
    });
}

type Frame = string | Uint8Array;

function anyFrame(roomId: string): fc.Arbitrary<Frame> {
  return fc.oneof(
    { arbitrary: structuredFrame(roomId), weight: 5 },
    { arbitrary: eventFrame(roomId), weight: 3 },
    { arbitrary: mutatedFrame(roomId), weight: 3 },
    // any code points, lone surrogates included
    { arbitrary: fc.string({ unit: "binary", maxLength: 60 }), weight: 1 },
    { arbitrary: fc.uint8Array({ maxLength: 64 }), weight: 1 },
  );
}

/** Every ack the connection got must be a contract ack, never INTERNAL. */
function assertNoInternal(frames: readonly string[]): void {
  for (const frame of frames) {
    const ack = /^43\d*(\[.*)$/s.exec(frame);
    if (!ack) continue;
    assert.ok(!ack[1]!.includes('"code":"INTERNAL"'), `an ack said INTERNAL: ${frame.slice(0, 300)}`);
  }
}

describe("random frames below socket.io-client", () => {
  let server: TestServer;
  let bystanders: Bystanders;
  let roomId: string;
  let token: string;
  let outcomes: { closed: number; working: number };

  before(async () => {
    server = await startServer({ env: { MAX_PAYLOAD_BYTES: String(MAX_PAYLOAD_BYTES) } });
    bystanders = await Bystanders.join(server);
    roomId = bystanders.roomId;
    token = await server.token((await server.addUser("Frame Fuzzer")).id);
  });
  after(() => server.close());

  /**
   * One run over a WebSocket: the frames, then a request. A connection that joined the namespace
   * asks `room:list`; one that did not, joins. Either the answer comes or the server closes it.
   */
  async function websocketRun(joined: boolean, frames: Frame[]): Promise<void> {
    const raw = joined ? await RawSocket.connected(server.port, token) : await RawSocket.open(server.port);
    const seenBefore = raw.frames.length;
    try {
      for (const frame of frames) if (!raw.closed) raw.ws.send(frame);
      // a DISCONNECT packet ("41…") takes the socket out of the namespace while the connection
      // stays open, as Socket.io means it to: such a run asks to join again instead
      const left = frames.some((frame) => typeof frame === "string" && frame.startsWith("41"));
      const inNamespace = joined && !left;
      const probe = inNamespace ? `42${PROBE_ID}["room:list",{}]` : `40${JSON.stringify({ token })}`;
      const answered = (f: string) =>
        inNamespace ? f.startsWith(`43${PROBE_ID}[`) : f.startsWith("40{") || f.startsWith("44");
      if (!raw.closed) raw.ws.send(probe);
      await until(
        () => raw.closed || raw.frames.slice(seenBefore).some(answered),
        5000,
        `closed or answered after ${JSON.stringify(frames.map(String))}; got ${raw.frames.join(" | ")}`,
      );
      if (raw.closed) outcomes.closed++;
      else outcomes.working++;
      assertNoInternal(raw.frames);
    } finally {
      raw.close();
    }
  }

  /**
   * One run over long-polling: the frames in one POST (Engine.IO's record separator between them),
   * then a request, both while a GET waits; more GETs follow until the answer or the session's end.
   */
  async function pollingRun(frames: string[]): Promise<void> {
    const polling = await RawPolling.open(server.url);
    await polling.connect(token);
    const received: string[] = [];
    let ended = false;
    const take = (answer: { status: number; text: string }) => {
      if (answer.status !== 200) ended = true;
      for (const packet of answer.text.split(RECORD_SEPARATOR)) {
        received.push(packet);
        if (packet === "1") ended = true;
      }
    };
    const probe = `42${PROBE_ID}["room:list",{}]`;
    const { statuses, answer } = await polling.postEachWhileWaiting(
      [frames.join(RECORD_SEPARATOR), probe],
      server,
    );
    if (statuses.includes(400)) ended = true;
    take(answer);
    const answered = () => received.some((p) => p.startsWith(`43${PROBE_ID}[`));
    const deadline = Date.now() + 5000;
    while (!ended && !answered()) {
      assert.ok(Date.now() < deadline, `neither ended nor answered: ${received.join(" | ")}`);
      take(await polling.get());
    }
    if (ended) outcomes.closed++;
    else outcomes.working++;
    assertNoInternal(received);
    if (!ended) {
      // a close packet from the client ends the session at once (no Engine.IO timer outlives the test)
      assert.equal(await polling.post("1"), 200);
      assert.equal((await polling.get()).status, 400, "the session ended");
    }
  }

  test("random frames over a WebSocket close that connection or leave it working", {
    timeout: 120_000,
  }, async (t) => {
    outcomes = { closed: 0, working: 0 };
    const property = fc.asyncProperty(
      fc.boolean(),
      fc.array(anyFrame(roomId), { minLength: 1, maxLength: 4 }),
      websocketRun,
    );
    await fc.assert(property, { numRuns: 20, endOnFailure: true }); // warm-up
    const heapBefore = heapAfterGc();
    await fc.assert(property, { numRuns: WEBSOCKET_RUNS, endOnFailure: true });
    const growth = heapAfterGc() - heapBefore;
    assert.ok(growth < HEAP_GROWTH_LIMIT, `the heap grew by ${(growth / 1024 / 1024).toFixed(1)} MB`);
    // both outcomes must occur, or the generators are not reaching the parser's edges
    t.diagnostic(`outcomes: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.closed >= 3 && outcomes.working >= 3, `outcomes: ${JSON.stringify(outcomes)}`);
    await bystanders.unaffected();
  });

  test("random packets over long-polling end that session or leave it working", {
    timeout: 120_000,
  }, async (t) => {
    outcomes = { closed: 0, working: 0 };
    const textFrame = fc.oneof(
      structuredFrame(roomId),
      eventFrame(roomId),
      eventFrame(roomId),
      mutatedFrame(roomId),
      fc.string({ unit: "binary", maxLength: 60 }),
    );
    const property = fc.asyncProperty(fc.array(textFrame, { minLength: 1, maxLength: 3 }), pollingRun);
    await fc.assert(property, { numRuns: POLLING_RUNS, endOnFailure: true });
    t.diagnostic(`outcomes: ${JSON.stringify(outcomes)}`);
    assert.ok(outcomes.closed >= 3 && outcomes.working >= 3, `outcomes: ${JSON.stringify(outcomes)}`);
    await bystanders.unaffected();
  });
});
