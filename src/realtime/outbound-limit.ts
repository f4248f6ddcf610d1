/**
 * A cap on what the server holds in memory for one client that does not read. Engine.IO queues a
 * socket's packets while its previous write has not reached the kernel, and a client that stops
 * reading (a frozen tab, a stalled phone, a hostile client) never lets it: in a busy room that queue
 * grows without bound until the heartbeat gives up (45 s later, or never while the pings are stuck
 * behind the queue too). Socket.io's own `disconnect(true)` waits for that queue to drain first.
 *
 * So each connection counts the bytes queued since Engine.IO last handed its buffer to the
 * transport, and past MAX_QUEUED_BYTES the connection is dropped at once, its queue discarded and
 * its TCP socket destroyed. The client reconnects and catches up with `message:changes`, as after
 * any disconnect. What the kernel holds is not counted: it is bounded by the socket's buffers.
 * Text packets count their string length (exact for ASCII, up to 3× under for other text), which
 * is O(1) on a path every broadcast takes.
 *
 * Answers (acks) to the client's own requests never count towards that drop: a client must not be
 * disconnected for an answer it asked for (a large room list used to drop its owner on every
 * reconnect). They are bounded another way: while the backlog, answers included, is past the cap,
 * the handler wrapper refuses new requests with RATE_LIMITED, so a client that asks and never
 * reads can hold at most the cap plus the answers already being computed.
 */
import type { Logger } from "../logger.js";
import type { ChatServer, ServerSocket } from "./types.js";

/**
 * 4 MB waiting for one client that the kernel would not take: far beyond any single event
 * (a message of 4,000 characters is a few kB) yet small next to the server's memory.
 */
export const MAX_QUEUED_BYTES = 4 * 1024 * 1024;

interface EnginePacket {
  data?: unknown;
}

interface EngineConnection {
  on(event: "packetCreate", listener: (packet: EnginePacket) => void): unknown;
  on(event: "flush", listener: () => void): unknown;
  close(discard?: boolean): unknown;
  transport?: { socket?: { terminate?: () => void } };
}

/** What one connection has queued since its last flush. */
interface Backlog {
  /** everything, answers included */
  total: number;
  /** events the server pushed (not answers): past the cap, the connection is dropped */
  pushed: number;
}

function sizeOf(packet: EnginePacket): number {
  const data = packet.data;
  if (typeof data === "string") return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

/**
 * Whether an Engine.IO message carries a Socket.io ACK (type 3) or BINARY_ACK (type 6). The
 * Socket.io packet type is the first character of its encoding, namespace or not (`3/chat,12[…]`).
 */
function isAck(packet: EnginePacket): boolean {
  const data = packet.data;
  return typeof data === "string" && (data.charCodeAt(0) === 0x33 || data.charCodeAt(0) === 0x36);
}

/** The outbound limit of every connection of one server. */
export interface OutboundLimit {
  /** true while what waits for this socket, answers included, is past the cap */
  backlogged(socket: ServerSocket): boolean;
}

/** Watches every connection of `io` and drops the ones whose pushed events pass `maxBytes`. */
export function limitQueuedBytes(io: ChatServer, logger: Logger, maxBytes = MAX_QUEUED_BYTES): OutboundLimit {
  const backlogs = new WeakMap<object, Backlog>();
  io.on("connection", (socket) => {
    const conn = socket.conn as unknown as EngineConnection;
    const backlog: Backlog = { total: 0, pushed: 0 };
    backlogs.set(socket.conn, backlog);
    let dropping = false;
    conn.on("flush", () => {
      backlog.total = 0;
      backlog.pushed = 0;
    });
    conn.on("packetCreate", (packet) => {
      const size = sizeOf(packet);
      backlog.total += size;
      if (isAck(packet)) return;
      backlog.pushed += size;
      if (backlog.pushed <= maxBytes || dropping) return;
      dropping = true;
      // not inside Engine.IO's sendPacket, which still pushes this packet when we return
      setImmediate(() => {
        logger.warn(
          { userId: socket.data.user?.id, queuedBytes: backlog.pushed },
          "dropping a client that does not read",
        );
        conn.close(true);
        conn.transport?.socket?.terminate?.();
      });
    });
  });
  return {
    backlogged: (socket) => (backlogs.get(socket.conn)?.total ?? 0) > maxBytes,
  };
}
