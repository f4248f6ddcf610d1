/**
 * A worker of the catch-up scenario: its clients are the real SDK (`ChatClient`), connected
 * through the benchmark's load balancer. When their node dies they reconnect by themselves (to the
 * node that is left), send what their outbox still holds, and catch up with `message:changes`.
 * The worker records when each client got back and when it held every message again.
 * Driven by the orchestrator over IPC (lib/catchup-ipc.ts); it only talks to 127.0.0.1.
 */
import { ChatClient, MemoryStorage } from "../src/sdk/index.js";
import type {
  AckedMessage,
  CatchupClientSpec,
  CatchupConnect,
  CatchupExpect,
  CatchupRun,
  ClientTimeline,
  FromCatchupWorker,
  ToCatchupWorker,
} from "./lib/catchup-ipc.js";
import { clockMs } from "./lib/stats.js";
import { rng, WordSampler } from "./lib/words.js";

interface Client {
  spec: CatchupClientSpec;
  chat: ChatClient;
  /** message id → when this client first held it (shared clock, ms) */
  firstSeen: Map<string, number>;
  /** after the kill: when it went offline, came back, and finished its catch-up */
  offlineAt: number | null;
  onlineAt: number | null;
  syncedAt: number | null;
  /** reconnection attempts after the kill, and why the first failed one failed */
  attempts: number;
  firstError: string | null;
}

const clients: Client[] = [];
/** from when status changes count as the node's death (the run's start) */
let watchFrom = Number.POSITIVE_INFINITY;

function send(message: FromCatchupWorker): void {
  process.send?.(message);
}

/** Notes every message the client's state holds that it had not seen yet. */
function scan(client: Client): void {
  const now = clockMs();
  for (const m of client.chat.state.messages(client.spec.room))
    if (!client.firstSeen.has(m.id)) client.firstSeen.set(m.id, now);
}

/** Between losing its node and a moment after its catch-up, a client is scanned on every change. */
const catchingUp = (c: Client) =>
  c.offlineAt !== null && (c.syncedAt === null || clockMs() - c.syncedAt < 1000);

async function connectAll(cmd: CatchupConnect): Promise<void> {
  let ok = 0;
  let failed = 0;
  let firstError: string | null = null;
  let next = 0;
  const one = async (spec: CatchupClientSpec) => {
    const chat = new ChatClient({
      url: cmd.url,
      token: spec.token,
      storage: new MemoryStorage(),
      requestTimeoutMs: 30_000,
      // the SDK's own reconnection settings, as a browser has them; only the transport is fixed
      socketOptions: { transports: ["websocket"] },
    });
    const client: Client = {
      spec,
      chat,
      firstSeen: new Map(),
      offlineAt: null,
      onlineAt: null,
      syncedAt: null,
      attempts: 0,
      firstError: null,
    };
    chat.socket.io.on("reconnect_attempt", () => {
      if (clockMs() >= watchFrom && client.onlineAt === null) client.attempts++;
    });
    chat.socket.io.on("reconnect_error", (error: Error) => {
      if (clockMs() >= watchFrom) client.firstError ??= error.message;
    });
    chat.socket.on("connect_error", (error: Error) => {
      if (clockMs() >= watchFrom) client.firstError ??= `refused: ${error.message}`;
    });
    chat.on("message:new", (m) => {
      if (m.roomId === spec.room && !client.firstSeen.has(m.id)) client.firstSeen.set(m.id, clockMs());
    });
    chat.on("status", (status) => {
      const now = clockMs();
      if (now < watchFrom) return;
      if (status === "offline" && client.offlineAt === null) client.offlineAt = now;
      if (status === "online" && client.offlineAt !== null && client.onlineAt === null) client.onlineAt = now;
    });
    chat.on("synced", () => {
      if (client.onlineAt !== null && client.syncedAt === null) client.syncedAt = clockMs();
      scan(client);
    });
    chat.on("change", () => {
      if (catchingUp(client)) scan(client);
    });
    try {
      await chat.ready(60_000);
      await chat.openRoom(spec.room);
      scan(client);
      clients.push(client);
      ok++;
    } catch (error) {
      failed++;
      firstError ??= String(error);
      chat.close();
    }
  };
  const lane = async () => {
    while (next < cmd.clients.length) await one(cmd.clients[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, cmd.concurrency) }, lane));
  send({ type: "connected", ok, failed, firstError });
}

let sweeper: ReturnType<typeof setInterval> | null = null;

async function run(cmd: CatchupRun): Promise<void> {
  watchFrom = cmd.startAt;
  // messages that reach the state other than by a live event (gap fills) are noted within 100 ms
  sweeper = setInterval(() => {
    for (const c of clients) scan(c);
  }, 100);
  const words = new WordSampler(300);
  const acked: AckedMessage[] = [];
  let failed = 0;
  let firstFailure: string | null = null;
  const pending = new Set<Promise<void>>();
  const endAt = cmd.startAt + cmd.durationMs;
  await new Promise((r) => setTimeout(r, Math.max(0, cmd.startAt - clockMs())));
  await new Promise<void>((allScheduled) => {
    const senders = clients.filter((c) => c.spec.sends);
    let running = senders.length;
    if (running === 0) allScheduled();
    for (const client of senders) {
      let counter = 0;
      const interval = 1000 / cmd.ratePerSender;
      let due = clockMs() + rng(client.spec.id)() * interval;
      const tick = () => {
        const now = clockMs();
        while (due <= now && due < endAt) {
          const random = rng(client.spec.id * 1_000_003 + counter++);
          // the outbox sends it until it is stored, through any reconnection
          const sending = client.chat.send(client.spec.room, words.body(random, cmd.bodyWords)).then(
            (message) => {
              acked.push({
                room: message.roomId,
                id: message.id,
                clientId: message.clientId ?? "",
                ackedAt: clockMs(),
              });
            },
            (error: unknown) => {
              failed++;
              firstFailure ??= String(error);
            },
          );
          pending.add(sending);
          void sending.finally(() => pending.delete(sending));
          due += interval;
        }
        if (due >= endAt) {
          if (--running === 0) allScheduled();
          return;
        }
        setTimeout(tick, Math.max(0, due - clockMs()));
      };
      setTimeout(tick, Math.max(0, due - clockMs()));
    }
  });
  const drainUntil = clockMs() + cmd.drainMs;
  while (pending.size > 0 && clockMs() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  send({ type: "sent", acked, failed, firstFailure, unacked: pending.size });
}

async function verify(cmd: CatchupExpect): Promise<void> {
  const byRoom = new Map<string, AckedMessage[]>();
  for (const m of cmd.acked) {
    const list = byRoom.get(m.room) ?? [];
    list.push(m);
    byRoom.set(m.room, list);
  }
  const missing = (c: Client) => {
    scan(c);
    let n = 0;
    for (const m of byRoom.get(c.spec.room) ?? []) if (!c.firstSeen.has(m.id)) n++;
    return n;
  };
  const lostNow = () => clients.reduce((a, c) => a + missing(c), 0);
  const deadline = clockMs() + cmd.timeoutMs;
  let lost = lostNow();
  while (lost > 0 && clockMs() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    lost = lostNow();
  }
  if (sweeper) clearInterval(sweeper);

  let duplicated = 0;
  let unacknowledged = 0;
  let checked = 0;
  const ackedIds = new Set(cmd.acked.map((m) => m.id));
  const timelines: ClientTimeline[] = [];
  const sinceKill = (t: number | null) => (t === null ? null : Math.max(0, t - cmd.killAt));
  for (const c of clients) {
    const held = c.chat.state.messages(c.spec.room);
    const byClientId = new Map<string, number>();
    for (const m of held) {
      if (!ackedIds.has(m.id)) unacknowledged++;
      if (m.clientId !== null)
        byClientId.set(
          `${m.senderId}/${m.clientId}`,
          (byClientId.get(`${m.senderId}/${m.clientId}`) ?? 0) + 1,
        );
    }
    for (const count of byClientId.values()) duplicated += count - 1;
    const expected = byRoom.get(c.spec.room) ?? [];
    checked += expected.length;
    const cutOff = c.offlineAt !== null;
    // what it had to get back: a cut-off client, everything acknowledged before it was back
    // online (the messages it missed while away); the others, what was acknowledged before the kill
    const until = cutOff ? (c.onlineAt ?? Number.POSITIVE_INFINITY) : cmd.killAt;
    let caughtUp: number | null = 0;
    for (const m of expected) {
      if (m.ackedAt >= until) continue;
      const seen = c.firstSeen.get(m.id);
      if (seen === undefined) {
        caughtUp = null;
        break;
      }
      caughtUp = Math.max(caughtUp, seen - cmd.killAt);
    }
    timelines.push({
      id: c.spec.id,
      cutOff,
      reconnectedMs: cutOff ? sinceKill(c.onlineAt) : null,
      syncedMs: cutOff ? sinceKill(c.syncedAt) : null,
      caughtUpMs: caughtUp,
      attempts: c.attempts,
      firstError: c.firstError,
    });
  }
  send({ type: "verified", lost, duplicated, unacknowledged, checked, timelines, timedOut: lost > 0 });
}

function disconnectAll(): void {
  for (const c of clients) c.chat.close();
  clients.length = 0;
  watchFrom = Number.POSITIVE_INFINITY;
  if (sweeper) clearInterval(sweeper);
  send({ type: "disconnected" });
}

process.on("message", (message: ToCatchupWorker) => {
  const fail = (error: unknown) => send({ type: "error", message: String(error) });
  switch (message.type) {
    case "connect":
      connectAll(message).catch(fail);
      break;
    case "run":
      run(message).catch(fail);
      break;
    case "expect":
      verify(message).catch(fail);
      break;
    case "disconnect":
      disconnectAll();
      break;
    case "exit":
      process.exit(0);
  }
});
// never outlive the orchestrator
process.on("disconnect", () => process.exit(0));
