/**
 * Runs one socket's requests for one key (a room) one after another, in the order they arrived.
 *
 * A client may send several messages without waiting for the acks, and expects them in the room
 * in the order it sent them. With SQLite every write finished in arrival order on its own; with
 * PostgreSQL each request takes a pooled connection and they race for the room's row lock, so the
 * third message could get an earlier seq than the second. Requests of other sockets and other
 * rooms still run side by side.
 */
import type { ServerSocket } from "./types.js";

const queues = new WeakMap<ServerSocket, Map<string, Promise<unknown>>>();

export function inOrder<T>(socket: ServerSocket, key: string, work: () => Promise<T>): Promise<T> {
  let byKey = queues.get(socket);
  if (!byKey) {
    byKey = new Map();
    queues.set(socket, byKey);
  }
  const before = byKey.get(key) ?? Promise.resolve();
  // a failed request (its error already answered) must not stop the ones after it
  const result = before.then(work, work);
  const tail = result.catch(() => {});
  byKey.set(key, tail);
  void tail.then(() => {
    if (byKey.get(key) === tail) byKey.delete(key);
  });
  return result;
}
