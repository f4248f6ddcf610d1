/**
 * The messages between the benchmark's orchestrator and its load-generator worker processes.
 * Every client has a global number; a sender's messages are numbered 0, 1, 2… and travel in the
 * `clientId` as `<sender>.<counter>.<sent at, µs on the shared monotonic clock>`, so any receiver
 * can check exactly-once delivery and measure delivery latency without asking anyone.
 */

/** One simulated client: its auth payload (a token, or the relay's rooms) and its rooms. */
export interface ClientSpec {
  id: number;
  auth: Record<string, unknown>;
  /** rooms this client is a member of (it expects every sender of these rooms) */
  rooms: string[];
  /** the room it sends to, when it is a sender */
  sendsTo?: string;
  /** loopback source address, to spread ephemeral ports over several addresses */
  localAddress?: string;
  /** the node this client connects to, when there are several (default: the command's `url`) */
  url?: string;
  /** logins of the other members of its room, for the bodies that mention someone (S1m) */
  mentionable?: string[];
}

export interface ConnectCommand {
  type: "connect";
  url: string;
  clients: ClientSpec[];
  /** handshakes in flight at once, for this worker */
  concurrency: number;
  /** the chat server says `session` once the socket joined its rooms; the relay only connects */
  readyEvent: "session" | "connect";
}

export interface RunCommand {
  type: "run";
  /** when to start sending, on the shared clock (ms) */
  startAt: number;
  warmupMs: number;
  durationMs: number;
  /** closed loop: each sender keeps `inflight` sends outstanding; open loop: `ratePerSender` a second */
  mode: "closed" | "open";
  inflight: number;
  ratePerSender: number;
  /** keep every latency sample (S3), not only counts */
  recordLatency: boolean;
  /** body length in words, drawn from the benchmark's vocabulary */
  bodyWords: number;
  /** the share of bodies (0–1) that end with `@login` of another member (S1m); absent: none */
  mentionShare?: number;
  /**
   * S1i: every `every`-th message of a sender first uploads `bytes` (a small image, base64) with
   * POST /api/files and the sender's token, then carries it in `fileIds`; absent: no files
   */
  images?: { every: number; bytes: string; name: string; type: string };
}

/** Per sender: its room and how many of its sends were acknowledged. */
export interface ExpectCommand {
  type: "expect";
  senders: { id: number; room: string; acked: number }[];
  timeoutMs: number;
}

export type ToWorker =
  | ConnectCommand
  | RunCommand
  | ExpectCommand
  | { type: "disconnect" }
  | { type: "exit" };

export interface ConnectedReport {
  type: "connected";
  ok: number;
  failed: number;
  firstError: string | null;
  /** ms from the first handshake to the last `readyEvent` */
  ms: number;
}

export interface SentReport {
  type: "sent";
  acked: { id: number; count: number }[];
  /** acks received inside the measured window */
  windowAcks: number;
  failedAcks: number;
  firstFailure: string | null;
  /** sends still without an ack when the drain timed out */
  unacked: number;
  ackLatency: number[];
  /** CPU seconds this worker used during the measured window */
  windowCpuS: number;
  /** S1i: uploads the server refused as busy (503, too many images waiting) and sent again */
  busyRetries: number;
}

export interface VerifiedReport {
  type: "verified";
  deliveries: number;
  windowDeliveries: number;
  /** expected deliveries that never arrived */
  lost: number;
  /** deliveries that arrived more than once */
  duplicated: number;
  /** deliveries of messages no ack was counted for, or from senders not in the receiver's rooms */
  unexpected: number;
  /** deliveries that arrived before an earlier message of the same sender */
  reordered: number;
  deliveryLatency: number[];
  timedOut: boolean;
}

export type FromWorker =
  | ConnectedReport
  | SentReport
  | VerifiedReport
  | { type: "disconnected" }
  | { type: "error"; message: string };
