/**
 * Running several TimeWise Chat nodes (REDIS_URL): Socket.io's Redis adapter carries every
 * broadcast to the sockets on all nodes, presence is counted in Redis, and a node that changes a
 * room tells the others to re-read it, so each node's in-memory view of rooms stays current.
 * The chat database itself must be shared: with SQLite, that means the nodes run on one machine
 * and open the same file.
 */
import { randomUUID } from "node:crypto";
import { createAdapter } from "@socket.io/redis-adapter";
import { Redis } from "ioredis";
import { RedisPresence } from "../chat/presence/redis-tracker.js";
import type { Logger } from "../logger.js";
import type { ChatServer } from "../realtime/types.js";

export interface Cluster {
  nodeId: string;
  /** for other shared counts (rate limits); closed with the cluster */
  redis: Redis;
  presence: RedisPresence;
  /** Tells the other nodes that these rooms changed. */
  announceRooms(roomIds: Iterable<string>): void;
  /** Calls `listener` with rooms another node changed. */
  onRoomsChanged(listener: (roomIds: string[]) => void): void;
  close(): Promise<void>;
}

export function joinCluster(io: ChatServer, redisUrl: string, prefix: string, logger: Logger): Cluster {
  const nodeId = randomUUID();
  const options = { maxRetriesPerRequest: 2, enableAutoPipelining: true, lazyConnect: false };
  const pub = new Redis(redisUrl, options);
  const sub = pub.duplicate();
  const roomsSub = pub.duplicate();
  for (const client of [pub, sub, roomsSub]) {
    client.on("error", (err: Error) => logger.warn({ err: err.message }, "Redis connection problem"));
  }
  io.adapter(createAdapter(pub, sub, { key: `${prefix}:socket.io` }));
  const channel = `${prefix}:rooms-changed`;
  const listeners: ((roomIds: string[]) => void)[] = [];
  void roomsSub.subscribe(channel);
  roomsSub.on("message", (_channel: string, text: string) => {
    const { from, rooms } = JSON.parse(text) as { from: string; rooms: string[] };
    if (from === nodeId) return;
    for (const listener of listeners) listener(rooms);
  });
  const presence = new RedisPresence(pub, prefix, nodeId);

  return {
    nodeId,
    redis: pub,
    presence,
    announceRooms(roomIds) {
      const rooms = [...roomIds];
      if (rooms.length === 0) return;
      pub.publish(channel, JSON.stringify({ from: nodeId, rooms })).catch((err: unknown) => {
        logger.warn({ err }, "could not tell the other nodes about changed rooms");
      });
    },
    onRoomsChanged(listener) {
      listeners.push(listener);
    },
    async close() {
      await presence.close().catch(() => {});
      roomsSub.disconnect();
      sub.disconnect();
      await pub.quit().catch(() => {});
    },
  };
}
