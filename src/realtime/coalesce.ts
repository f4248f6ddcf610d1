/**
 * One TCP write per Engine.IO flush. While a socket's previous write is in progress, Engine.IO
 * queues its packets, then sends them all in one loop, one WebSocket frame each; every frame
 * became its own `writev` system call, which on a busy server cost more than anything else on the
 * send path (loopback or not, a syscall per frame). Corking the TCP socket for that loop sends
 * the whole batch with one call. Group commit acknowledges and broadcasts a batch of messages at
 * once, so a busy room's sockets usually have several frames queued.
 *
 * This wraps the `send` of each connection's WebSocket transport (not a prototype: other
 * Socket.io servers in the process are untouched). It relies on two internals, checked at run
 * time: Engine.IO's `transport.send(packets)` and ws's `_socket`; when either is missing, the
 * transport is left as it is and only the optimisation is lost.
 */
import type { Socket as NetSocket } from "node:net";
import type { ChatServer } from "./types.js";

interface Corkable {
  cork(): void;
  uncork(): void;
}

interface EngineTransport {
  name?: unknown;
  send?: unknown;
  socket?: { _socket?: unknown };
  coalesced?: boolean;
}

function isCorkable(value: unknown): value is NetSocket & Corkable {
  const v = value as Partial<Corkable> | null | undefined;
  return typeof v?.cork === "function" && typeof v.uncork === "function";
}

/** Makes `transport` send each batch of packets in one TCP write, when it is a WebSocket. */
export function coalesceWrites(transport: unknown): void {
  const t = transport as EngineTransport | null;
  if (t?.name !== "websocket" || t.coalesced || typeof t.send !== "function") return;
  const raw = t.socket?._socket;
  if (!isCorkable(raw)) return;
  const send = t.send as (packets: unknown[]) => void;
  t.send = (packets: unknown[]) => {
    raw.cork();
    try {
      send.call(t, packets);
    } finally {
      raw.uncork();
    }
  };
  t.coalesced = true;
}

/** Applies `coalesceWrites` to every connection of `io`, and again after a transport upgrade. */
export function coalesceAllWrites(io: ChatServer): void {
  io.on("connection", (socket) => {
    coalesceWrites(socket.conn.transport);
    socket.conn.on("upgrade", (transport: unknown) => coalesceWrites(transport));
  });
}
