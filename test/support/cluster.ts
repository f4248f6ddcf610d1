/**
 * A cluster of real TimeWise Chat processes (`src/main.ts`, as in process.ts) on loopback, the way
 * N machines behind a load balancer run it: one fresh PostgreSQL database for the chat data, one
 * Redis with a key prefix of its own, and the built-in user directory in that database, as main.ts
 * keeps it (users are added before the nodes start, so no node caches a miss).
 * Nodes can be added later, killed, or pointed at a proxy in front of PostgreSQL (tcp-proxy.ts).
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { PostgresChatStore } from "../../src/storage/postgres/postgres-chat-store.js";
import { PostgresDirectory } from "../../src/users/postgres-directory.js";
import { connectWithToken, type TestSocket } from "./client.js";
import { createTestDatabase, type TestDatabase } from "./postgres-database.js";
import { type ServerProcess, serverEnv, spawnServer, tempDir } from "./process.js";
import { TEST_REDIS_URL } from "./services.js";
import { signToken } from "./tokens.js";

export interface ClusterUser {
  id: string;
  name: string;
}

export interface ClusterOptions {
  /** users made before the nodes start, by name */
  users: readonly string[];
  /** how many nodes start at once (default 2) */
  nodes?: number;
  /** default the machine's test Redis */
  redisUrl?: string;
  /** settings every node gets, on top of the cluster's own */
  env?: Record<string, string>;
}

export interface Cluster {
  database: TestDatabase;
  users: ClusterUser[];
  nodes: ServerProcess[];
  /** the settings each node starts with */
  env: Record<string, string>;
  /** Starts one more node, with `env` on top of the cluster's (e.g. another CHAT_DATABASE_URL). */
  addNode(env?: Record<string, string>): Promise<ServerProcess>;
  /** A socket of `user` on `node`, once its `session` arrived. */
  connect(node: ServerProcess, user: ClusterUser): Promise<TestSocket>;
  /** Closes every socket, stops the nodes that still run and drops the database. */
  close(): Promise<void>;
}

/**
 * Rate limits out of the way: the cluster tests send thousands of messages from a few users, and
 * what they check is ordering and durability, not the limits (test/integration/rate-limits.test.ts).
 */
const ROOMY_LIMITS = {
  RATE_LIMIT_MESSAGES: "1000000",
  RATE_LIMIT_ROOM_OPS: "1000000",
  RATE_LIMIT_READS: "1000000",
  RATE_LIMIT_SEARCHES: "1000000",
};

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const scratch = tempDir("twc-cluster-");
  // the nodes' SQLite path: unused with CHAT_DATABASE_URL, but a real place all the same
  const sqlitePath = join(scratch.dir, "unused.db");
  const database = await createTestDatabase("cluster");
  // migrated here, so the users can go in before any node starts
  const store = await PostgresChatStore.open({ url: database.url, max: 1 });
  const directory = new PostgresDirectory(store.sharedPool());
  const users: ClusterUser[] = [];
  let n = 0;
  try {
    for (const name of options.users) {
      const login = `${name.toLowerCase().replace(/[^a-z0-9]+/g, "")}${++n}`;
      const user = await directory.add({ login, name });
      users.push({ id: user.id, name: user.name });
    }
  } finally {
    await store.close();
  }

  const env = serverEnv(sqlitePath, {
    CHAT_DATABASE_URL: database.url,
    CHAT_DATABASE_POOL_SIZE: "4",
    REDIS_URL: options.redisUrl ?? TEST_REDIS_URL,
    REDIS_PREFIX: `twc-cluster-${randomUUID().slice(0, 8)}`,
    ...ROOMY_LIMITS,
    ...options.env,
  });

  const nodes: ServerProcess[] = [];
  const sockets: TestSocket[] = [];
  const addNode = async (extra: Record<string, string> = {}) => {
    const node = await spawnServer({ ...env, ...extra });
    nodes.push(node);
    return node;
  };
  try {
    // one after the other: migrations run once anyway (an advisory lock), and start-up is quicker
    // on two cores without two compilers racing
    for (let i = 0; i < (options.nodes ?? 2); i++) await addNode();
  } catch (error) {
    for (const node of nodes) node.child.kill("SIGKILL");
    await database.drop();
    scratch.remove();
    throw error;
  }

  return {
    database,
    users,
    nodes,
    env,
    addNode,
    async connect(node, user) {
      const { socket } = await connectWithToken(node.url, signToken(user.id));
      sockets.push(socket);
      return socket;
    },
    async close() {
      for (const socket of sockets) socket.close();
      await Promise.all(nodes.map((node) => node.stop("SIGTERM").catch(() => node.stop("SIGKILL"))));
      await database.drop();
      scratch.remove();
    },
  };
}
