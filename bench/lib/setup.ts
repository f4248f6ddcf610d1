/**
 * Real users and real rooms for the chat server: users go into the built-in directory of a fresh
 * database before the server starts (as `npm run users` would put them), tokens are signed the
 * way the PHP app signs them, and rooms are created through the contract (`room:create`).
 */
import { SignJWT } from "jose";
import { io, type Socket } from "socket.io-client";
import { PostgresChatStore } from "../../src/storage/postgres/postgres-chat-store.js";
import { openDatabase } from "../../src/storage/sqlite/open.js";
import { BENCH_SECRET } from "./targets.js";

/** Creates a database with users 1…count in its built-in directory; returns their ids. */
export function prepareDatabase(path: string, count: number): string[] {
  const db = openDatabase(path);
  const insert = db.prepare(
    "INSERT INTO directory_users (id, login, name, active, created_at) VALUES (?, ?, ?, 1, ?)",
  );
  const at = new Date().toISOString();
  db.transaction(() => {
    for (let id = 1; id <= count; id++) insert.run(id, `user${id}`, `Bench User ${id}`, at);
  })();
  db.close();
  return Array.from({ length: count }, (_, i) => String(i + 1));
}

/**
 * The same users 1…count in the built-in directory of a PostgreSQL chat database, where nodes
 * with CHAT_DATABASE_URL look them up; brings the schema up to date first.
 */
export async function preparePostgresUsers(url: string, count: number): Promise<void> {
  const store = await PostgresChatStore.open({ url, max: 1 });
  try {
    await store
      .sharedPool()
      .query(
        "INSERT INTO directory_users (id, login, name, active, created_at) SELECT g, 'user' || g, 'Bench User ' || g, TRUE, $2 FROM generate_series(1, $1::int) AS g",
        [count, new Date().toISOString()],
      );
  } finally {
    await store.close();
  }
}

const secret = new TextEncoder().encode(BENCH_SECRET);

/** An HS256 chat token for `userId`, valid for two hours, with the `iss`/`aud` production requires. */
export function signToken(userId: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuer("timewise")
    .setAudience("timewise-chat")
    .setIssuedAt(now)
    .setExpirationTime(now + 7200)
    .sign(secret);
}

/** One benchmark client over WebSocket, resolved once the server sent its `session` event. */
export function connect(url: string, token: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(url, {
      auth: { token },
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
    });
    socket.once("session", () => resolve(socket));
    socket.once("connect_error", (err) => reject(err));
  });
}

/**
 * Creates one group per member list through `room:create`, the first member as its owner.
 * Returns the room ids, in the order of `groups`.
 */
export async function createRooms(
  url: string,
  tokens: Map<string, string>,
  groups: string[][],
): Promise<string[]> {
  const ids: string[] = new Array(groups.length);
  let next = 0;
  const lane = async () => {
    while (next < groups.length) {
      const index = next++;
      const [owner, ...others] = groups[index]!;
      const socket = await connect(url, tokens.get(owner!)!);
      try {
        const ack = await socket
          .timeout(30_000)
          .emitWithAck("room:create", { name: `Bench room ${index + 1}`, memberIds: others });
        if (!ack?.ok) throw new Error(`room:create failed: ${JSON.stringify(ack?.error)}`);
        ids[index] = String(ack.room.id);
      } finally {
        socket.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, groups.length) }, lane));
  return ids;
}
