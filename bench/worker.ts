/**
 * A load-generator worker process: holds a share of the simulated clients, sends for the senders
 * among them, and checks every delivery its clients receive. Driven by the orchestrator over IPC
 * (see lib/ipc.ts); it never talks to anything but the target on 127.0.0.0/8.
 */
import { io, type Socket } from "socket.io-client";
import type {
  ClientSpec,
  ConnectCommand,
  ExpectCommand,
  FromWorker,
  RunCommand,
  ToWorker,
} from "./lib/ipc.js";
import { clockMs } from "./lib/stats.js";
import { rng, WordSampler } from "./lib/words.js";

interface SendAck {
  ok: boolean;
  error?: { code: string; message: string };
}

/** What one receiver got from one sender: a bitmap of counters seen, to tell lost from duplicated. */
class PairState {
  seen = new Uint8Array(1024);
  distinct = 0;
  duplicated = 0;
  reordered = 0;
  max = -1;

  record(counter: number): void {
    while (counter >> 3 >= this.seen.length) {
      const grown = new Uint8Array(this.seen.length * 2);
      grown.set(this.seen);
      this.seen = grown;
    }
    const byte = counter >> 3;
    const bit = 1 << (counter & 7);
    if (this.seen[byte]! & bit) {
      this.duplicated++;
      return;
    }
    this.seen[byte]! |= bit;
    this.distinct++;
    if (counter < this.max) this.reordered++;
    else this.max = counter;
  }

  /** how many of counters ≥ `acked` were seen (delivered, yet never acknowledged) */
  beyond(acked: number): number {
    let n = 0;
    for (let c = acked; c <= this.max; c++) if (this.seen[c >> 3]! & (1 << (c & 7))) n++;
    return n;
  }
}

interface Client {
  spec: ClientSpec;
  socket: Socket;
  /** sender id → what this client received from it */
  from: Map<number, PairState>;
  /** the node it is connected to, for its uploads (S1i) */
  url: string;
}

const clients: Client[] = [];
let deliveries = 0;
let windowDeliveries = 0;
let measured = { start: Number.POSITIVE_INFINITY, end: Number.NEGATIVE_INFINITY };
let recordLatency = false;
let deliveryLatency: number[] = [];
/** deliveries from senders this client does not expect (not in its rooms) */
let strays = 0;

function send(message: FromWorker): void {
  process.send?.(message);
}

function onDelivery(client: Client, message: { clientId?: unknown }): void {
  const now = clockMs();
  deliveries++;
  if (now >= measured.start && now < measured.end) windowDeliveries++;
  const parts = typeof message.clientId === "string" ? message.clientId.split(".") : [];
  if (parts.length !== 3) {
    strays++;
    return;
  }
  const sender = Number(parts[0]);
  let pair = client.from.get(sender);
  if (!pair) {
    pair = new PairState();
    client.from.set(sender, pair);
  }
  pair.record(Number(parts[1]));
  const sentAt = Number(parts[2]) / 1000;
  // only messages sent inside the measured window count, as for the acks
  if (recordLatency && sentAt >= measured.start && sentAt < measured.end) deliveryLatency.push(now - sentAt);
}

async function connectAll(cmd: ConnectCommand): Promise<void> {
  const started = clockMs();
  let ok = 0;
  let failed = 0;
  let firstError: string | null = null;
  let next = 0;
  const one = (spec: ClientSpec) =>
    new Promise<void>((resolve) => {
      const socket = io(spec.url ?? cmd.url, {
        auth: spec.auth,
        transports: ["websocket"],
        reconnection: false,
        forceNew: true,
        timeout: 30_000,
        ...(spec.localAddress ? { localAddress: spec.localAddress } : {}),
      });
      const client: Client = { spec, socket, from: new Map(), url: spec.url ?? cmd.url };
      socket.on("message:new", (m: { clientId?: unknown }) => onDelivery(client, m));
      socket.once(cmd.readyEvent, () => {
        ok++;
        clients.push(client);
        resolve();
      });
      socket.once("connect_error", (err: Error) => {
        failed++;
        firstError ??= err.message;
        socket.close();
        resolve();
      });
    });
  const lane = async () => {
    while (next < cmd.clients.length) await one(cmd.clients[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, cmd.concurrency) }, lane));
  send({ type: "connected", ok, failed, firstError, ms: clockMs() - started });
}

async function run(cmd: RunCommand): Promise<void> {
  measured = { start: cmd.startAt + cmd.warmupMs, end: cmd.startAt + cmd.warmupMs + cmd.durationMs };
  recordLatency = cmd.recordLatency;
  deliveryLatency = [];
  const endAt = measured.end;
  const words = new WordSampler(300);
  const senders = clients.filter((c) => c.spec.sendsTo !== undefined);
  const acked = new Map<number, number>(senders.map((c) => [c.spec.id, 0]));
  const ackLatency: number[] = [];
  let windowAcks = 0;
  let failedAcks = 0;
  let firstFailure: string | null = null;
  let outstanding = 0;
  let busyRetries = 0;
  let cpuAtStart: NodeJS.CpuUsage | null = null;
  let cpuWindow = 0;

  await new Promise((r) => setTimeout(r, Math.max(0, cmd.startAt - clockMs())));
  const cpuTimer = setTimeout(
    () => (cpuAtStart = process.cpuUsage()),
    Math.max(0, measured.start - clockMs()),
  );
  const cpuEnd = setTimeout(
    () => {
      const used = process.cpuUsage(cpuAtStart ?? undefined);
      cpuWindow = (used.user + used.system) / 1e6;
    },
    Math.max(0, measured.end - clockMs()),
  );

  const image = cmd.images
    ? { ...cmd.images, blob: new Blob([Buffer.from(cmd.images.bytes, "base64")]) }
    : null;
  const fail = (why: string) => {
    failedAcks++;
    firstFailure ??= why;
  };
  const sendOne = (client: Client, counter: number, then: () => void) => {
    const random = rng(client.spec.id * 1_000_003 + counter);
    // taken before any upload, so the message's ack and delivery latency include it
    const sentAt = clockMs();
    const payload = {
      roomId: client.spec.sendsTo,
      body: withMention(words.body(random, cmd.bodyWords), random, cmd.mentionShare, client.spec.mentionable),
      clientId: `${client.spec.id}.${counter}.${Math.round(sentAt * 1000)}`,
    };
    outstanding++;
    if (image && (counter + 1) % image.every === 0) {
      // a file goes into one message only, so each of these messages uploads its own
      uploadImage(client, image, () => busyRetries++)
        .then((fileId) => emit(client, { ...payload, fileIds: [fileId] }, sentAt, then))
        .catch((error: unknown) => {
          outstanding--;
          fail(`upload: ${error instanceof Error ? error.message : String(error)}`);
          then();
        });
      return;
    }
    emit(client, payload, sentAt, then);
  };
  const emit = (client: Client, payload: object, sentAt: number, then: () => void) => {
    client.socket.emit("message:send", payload, (ack: SendAck) => {
      outstanding--;
      const now = clockMs();
      if (ack?.ok) {
        acked.set(client.spec.id, (acked.get(client.spec.id) ?? 0) + 1);
        if (now >= measured.start && now < measured.end) windowAcks++;
        if (recordLatency && sentAt >= measured.start && sentAt < measured.end) ackLatency.push(now - sentAt);
      } else {
        fail(ack?.error ? `${ack.error.code}: ${ack.error.message}` : "no ack body");
      }
      then();
    });
  };

  await new Promise<void>((allSent) => {
    let running = senders.length;
    const finished = () => {
      if (--running === 0) allSent();
    };
    if (running === 0) allSent();
    for (const client of senders) {
      let counter = 0;
      if (cmd.mode === "closed") {
        // every ack sends the next message, keeping `inflight` outstanding until the end
        let lanes = cmd.inflight;
        const next = () => {
          if (clockMs() >= endAt) {
            if (--lanes === 0) finished();
            return;
          }
          sendOne(client, counter++, next);
        };
        for (let i = 0; i < cmd.inflight; i++) next();
      } else {
        // open loop: a fixed schedule, whatever the acks do, so queueing shows up as latency
        const interval = 1000 / cmd.ratePerSender;
        let due = clockMs() + rng(client.spec.id)() * interval;
        const tick = () => {
          const now = clockMs();
          while (due <= now && due < endAt) {
            sendOne(client, counter++, () => {});
            due += interval;
          }
          if (due >= endAt) return finished();
          setTimeout(tick, Math.max(0, due - clockMs()));
        };
        setTimeout(tick, Math.max(0, due - clockMs()));
      }
    }
  });
  // wait for the last acks, bounded
  const drainUntil = clockMs() + 30_000;
  while (outstanding > 0 && clockMs() < drainUntil) await new Promise((r) => setTimeout(r, 10));
  clearTimeout(cpuTimer);
  clearTimeout(cpuEnd);
  send({
    type: "sent",
    acked: [...acked].map(([id, count]) => ({ id, count })),
    windowAcks,
    failedAcks,
    firstFailure,
    unacked: outstanding,
    ackLatency,
    windowCpuS: cpuWindow,
    busyRetries,
  });
}

async function verify(cmd: ExpectCommand): Promise<void> {
  const byRoom = new Map<string, { id: number; acked: number }[]>();
  for (const s of cmd.senders) {
    const list = byRoom.get(s.room) ?? [];
    list.push(s);
    byRoom.set(s.room, list);
  }
  const missing = () => {
    let n = 0;
    for (const c of clients)
      for (const room of c.spec.rooms)
        for (const s of byRoom.get(room) ?? []) n += Math.max(0, s.acked - (c.from.get(s.id)?.distinct ?? 0));
    return n;
  };
  const deadline = clockMs() + cmd.timeoutMs;
  let lost = missing();
  while (lost > 0 && clockMs() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    lost = missing();
  }
  let duplicated = 0;
  let reordered = 0;
  let unexpected = strays;
  for (const c of clients) {
    const expected = new Map<number, number>();
    for (const room of c.spec.rooms) for (const s of byRoom.get(room) ?? []) expected.set(s.id, s.acked);
    for (const [sender, pair] of c.from) {
      duplicated += pair.duplicated;
      reordered += pair.reordered;
      const acked = expected.get(sender);
      unexpected += acked === undefined ? pair.distinct : pair.beyond(acked);
    }
  }
  send({
    type: "verified",
    deliveries,
    windowDeliveries,
    lost,
    duplicated,
    unexpected,
    reordered,
    deliveryLatency,
    timedOut: lost > 0,
  });
}

function disconnectAll(): void {
  for (const c of clients) c.socket.close();
  clients.length = 0;
  deliveries = 0;
  windowDeliveries = 0;
  strays = 0;
  deliveryLatency = [];
  measured = { start: Number.POSITIVE_INFINITY, end: Number.NEGATIVE_INFINITY };
  send({ type: "disconnected" });
}

process.on("message", (message: ToWorker) => {
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

/**
 * S1i: uploads the image as the client's user (POST /api/files, its token) and gives the file's id.
 * A 503 (too many images waiting on the node) is tried again after 50–150 ms, as the web UI's
 * "try again" does, for up to 30 s: the wait counts in that message's latency, and `onRetry` counts it.
 */
async function uploadImage(
  client: Client,
  image: { blob: Blob; name: string; type: string },
  onRetry: () => void,
): Promise<string> {
  const giveUpAt = clockMs() + 30_000;
  for (;;) {
    const form = new FormData();
    form.append("file", new File([image.blob], image.name, { type: image.type }));
    const res = await fetch(`${client.url}/api/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${String(client.spec.auth.token)}` },
      body: form,
    });
    const text = await res.text();
    if (res.status === 201) return (JSON.parse(text) as { file: { id: string } }).file.id;
    if (res.status !== 503 || clockMs() >= giveUpAt)
      throw new Error(`answered ${res.status}: ${text.slice(0, 200)}`);
    onRetry();
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
  }
}

/** S1m: a share of the bodies ends by mentioning another member of the room, as people write them. */
function withMention(
  body: string,
  random: () => number,
  share: number | undefined,
  logins: string[] | undefined,
): string {
  if (!share || !logins?.length || random() >= share) return body;
  return `${body} @${logins[Math.floor(random() * logins.length)]!}`;
}
