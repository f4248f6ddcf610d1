/**
 * The messages between the orchestrator and bench/catchup-worker.ts, whose clients are the real
 * SDK (`ChatClient`): it reconnects by itself, sends its outbox again after a lost connection and
 * catches up with `message:changes`, as a browser tab does.
 */

export interface CatchupClientSpec {
  id: number;
  userId: string;
  token: string;
  room: string;
  sends: boolean;
}

export interface CatchupConnect {
  type: "connect";
  /** the load balancer in front of the nodes */
  url: string;
  clients: CatchupClientSpec[];
  concurrency: number;
}

export interface CatchupRun {
  type: "run";
  /** on the shared clock (ms) */
  startAt: number;
  durationMs: number;
  ratePerSender: number;
  bodyWords: number;
  /** how long to wait for the last sends (the outbox retrying them) after the schedule ends */
  drainMs: number;
}

/** Every acknowledged message of every room, with when its sender got the ack. */
export interface CatchupExpect {
  type: "expect";
  acked: AckedMessage[];
  /** when the node died, on the shared clock */
  killAt: number;
  timeoutMs: number;
}

export type ToCatchupWorker =
  | CatchupConnect
  | CatchupRun
  | CatchupExpect
  | { type: "disconnect" }
  | { type: "exit" };

export interface AckedMessage {
  room: string;
  id: string;
  clientId: string;
  ackedAt: number;
}

export interface CatchupConnected {
  type: "connected";
  ok: number;
  failed: number;
  firstError: string | null;
}

export interface CatchupSent {
  type: "sent";
  acked: AckedMessage[];
  /** sends the server refused for good */
  failed: number;
  firstFailure: string | null;
  /** sends still without an ack after the drain */
  unacked: number;
}

/** One client's story around the kill; times in ms after the kill, null when it did not happen. */
export interface ClientTimeline {
  id: number;
  /** it lost its connection after the kill: it was on the node that died */
  cutOff: boolean;
  /** kill → `session` on the other node */
  reconnectedMs: number | null;
  /** kill → the SDK's catch-up done (`synced`) */
  syncedMs: number | null;
  /**
   * kill → it held every message it had to get back: a cut-off client, every message acknowledged
   * before it was online again; the others, every message acknowledged before the kill
   */
  caughtUpMs: number | null;
  /** connection attempts until it was back (socket.io-client's back-off: 0.5 s, 1 s, 2 s… ±50 %) */
  attempts: number;
  /** why the first failed attempt failed, if one did */
  firstError: string | null;
}

export interface CatchupVerified {
  type: "verified";
  /** acknowledged messages a member's client does not hold, counted per client */
  lost: number;
  /** one clientId stored (and so shown) as two messages */
  duplicated: number;
  /** messages a client holds that no sender saw acknowledged (stored, ack lost with the node) */
  unacknowledged: number;
  /** (client, message) pairs checked */
  checked: number;
  timelines: ClientTimeline[];
  timedOut: boolean;
}

export type FromCatchupWorker =
  | CatchupConnected
  | CatchupSent
  | CatchupVerified
  | { type: "disconnected" }
  | { type: "error"; message: string };
