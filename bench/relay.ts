/**
 * The ceiling: a bare Socket.io relay with no authentication and no storage. It receives
 * `message:send`, broadcasts `message:new` to the room and acks, with a message shaped like the
 * chat server's so both put the same bytes on the wire. A client names its rooms in `auth.rooms`.
 * Run: `node relay.js` with RELAY_PORT (0 = any) and RELAY_HOST; it prints nothing but errors.
 */
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.env.RELAY_PORT ?? 0);
const host = process.env.RELAY_HOST ?? "127.0.0.1";

interface SendPayload {
  roomId: string;
  body: string;
  clientId: string;
}

const httpServer = createServer((req, res) => {
  if (req.url?.startsWith("/socket.io/")) return;
  res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
});
const io = new Server(httpServer, { path: "/socket.io", maxHttpBufferSize: 262_144 });
let nextId = 0;
const counters = new Map<string, number>();

io.on("connection", (socket) => {
  const rooms: unknown = socket.handshake.auth.rooms;
  if (Array.isArray(rooms)) socket.join(rooms.map(String));
  socket.on("message:send", (p: SendPayload, ack: (response: unknown) => void) => {
    const seq = (counters.get(p.roomId) ?? 0) + 1;
    counters.set(p.roomId, seq);
    const message = {
      id: String(++nextId),
      roomId: p.roomId,
      seq,
      rev: seq,
      senderId: "1",
      body: p.body,
      clientId: p.clientId,
      replyToId: null,
      createdAt: new Date().toISOString(),
      editedAt: null,
      deleted: false,
      reactions: {},
    };
    io.to(p.roomId).emit("message:new", message);
    ack({ ok: true, message });
  });
});

httpServer.listen(port, host);
process.on("SIGTERM", () => io.close(() => process.exit(0)));
process.on("SIGINT", () => io.close(() => process.exit(0)));
