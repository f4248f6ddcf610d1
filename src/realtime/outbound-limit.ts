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
 */
import type { Logger } from "../logger.js";
import type { ChatServer } from "./types.js";

/**
 * 4 MB waiting for one client that the kernel would not take: far beyond any single answer
 * (a page of 100 messages of 4,000 characters is under 2 MB) yet small next to the server's memory.
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

function sizeOf(packet: EnginePacket): number {
  const data = packet.data;
  if (typeof data === "string") return data.length;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}

/** Watches every connection of `io` and drops the ones whose queue passes `maxBytes`. */
export function limitQueuedBytes(io: ChatServer, logger: Logger, maxBytes = MAX_QUEUED_BYTES): void {
  io.on("connection", (socket) => {
    const conn = socket.conn as unknown as EngineConnection;
    let queued = 0;
    let dropping = false;
    conn.on("flush", () => {
      queued = 0;
    });
    conn.on("packetCreate", (packet) => {
      queued += sizeOf(packet);
      if (queued <= maxBytes || dropping) return;
      dropping = true;
      // not inside Engine.IO's sendPacket, which still pushes this packet when we return
      setImmediate(() => {
        logger.warn(
          { userId: socket.data.user?.id, queuedBytes: queued },
          "dropping a client that does not read",
        );
        conn.close(true);
        conn.transport?.socket?.terminate?.();
      });
    });
  });
}
