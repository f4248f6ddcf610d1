/**
 * The digest scenario (`--only=digest`): one run of the email digest job (src/chat/notifications/
 * digests.ts) for 10,000 users who each have unread messages past their delay, on SQLite and on
 * PostgreSQL. 1,000 groups of one sender and ten readers, three messages each, made through the
 * store's own writes. The mails go to a sender that takes each at once (no SMTP server: what is
 * measured is the job and its database work). The SQL statements are counted at the driver, every
 * one the store sends (BEGIN and COMMIT included): better-sqlite3's statement calls on this thread,
 * and `pg`'s `Client.query` for every connection of the pool.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { runDigests } from "../../src/chat/notifications/digests.js";
import type { DigestMail } from "../../src/chat/notifications/mailer.js";
import { type AsyncChatStore, asAsyncChatStore } from "../../src/storage/async-chat-store.js";
import { PostgresChatStore } from "../../src/storage/postgres/postgres-chat-store.js";
import { openDatabase } from "../../src/storage/sqlite/open.js";
import { SqliteChatStore } from "../../src/storage/sqlite/sqlite-chat-store.js";
import type { DirectoryUser } from "../../src/users/types.js";
import { createDatabase, type Services } from "./postgres.js";
import { clockMs } from "./stats.js";

const GROUPS = 1000;
const READERS_PER_GROUP = 10;
const MESSAGES_PER_GROUP = 3;

export interface DigestResult {
  store: "sqlite" | "postgres";
  users: number;
  messages: number;
  mails: number;
  /** the whole run: collect, send and prune */
  runMs: number;
  queries: number;
  setupS: number;
}

/** Statements sent, by the patched drivers; reset around the measured run. */
let statements = 0;

/** Counts every statement call of better-sqlite3 on this thread (the prototype all statements share). */
function countSqlite(db: ReturnType<typeof openDatabase>): void {
  const proto = Object.getPrototypeOf(db.prepare("SELECT 1")) as Record<string, unknown>;
  if (proto.__counted) return;
  for (const name of ["run", "get", "all", "iterate"]) {
    const original = proto[name] as (...args: unknown[]) => unknown;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      statements++;
      return original.apply(this, args);
    };
  }
  proto.__counted = true;
}

/** Counts every query any `pg` client of this process sends. */
function countPostgres(): void {
  const proto = pg.Client.prototype as unknown as Record<string, unknown>;
  if (proto.__counted) return;
  const original = proto.query as (...args: unknown[]) => unknown;
  proto.query = function (this: unknown, ...args: unknown[]) {
    statements++;
    return original.apply(this, args);
  };
  proto.__counted = true;
}

async function fill(store: AsyncChatStore, users: Map<string, DirectoryUser>): Promise<number> {
  const at = new Date(Date.now() - 20 * 60_000).toISOString();
  let messages = 0;
  let next = 1;
  const user = (email: boolean): string => {
    const id = String(next++);
    users.set(id, {
      id,
      login: `u${id}`,
      name: `User ${id}`,
      active: true,
      scope: null,
      email: email ? `u${id}@example.com` : null,
    });
    return id;
  };
  for (let g = 0; g < GROUPS; g++) {
    const sender = user(false);
    const readers = Array.from({ length: READERS_PER_GROUP }, () => user(true));
    const room = await store.createGroup({ name: `Team ${g}`, ownerId: sender, memberIds: readers, at });
    for (let m = 0; m < MESSAGES_PER_GROUP; m++) {
      await store.sendMessage({
        roomId: room.id,
        senderId: sender,
        body: `update ${m} for team ${g}`,
        clientId: null,
        replyToId: null,
        at,
      });
      messages++;
    }
  }
  return messages;
}

async function measure(
  kind: DigestResult["store"],
  store: AsyncChatStore,
  setupStarted: number,
  users: Map<string, DirectoryUser>,
  messages: number,
): Promise<DigestResult> {
  const setupS = (clockMs() - setupStarted) / 1000;
  let mails = 0;
  const send = async (_mail: DigestMail) => {
    mails++;
  };
  const directory = {
    findByIds: async (ids: readonly string[]) =>
      new Map(
        ids.flatMap((id) => {
          const u = users.get(id);
          return u ? [[id, u] as const] : [];
        }),
      ),
  };
  statements = 0;
  const started = clockMs();
  await runDigests({ store, directory, send, publicUrl: "https://chat.example.com", now: Date.now });
  const runMs = clockMs() - started;
  const queries = statements;
  return { store: kind, users: GROUPS * READERS_PER_GROUP, messages, mails, runMs, queries, setupS };
}

export async function runDigestBench(options: {
  services: Services | null;
  log: (line: string) => void;
}): Promise<DigestResult[]> {
  const results: DigestResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), "twc-bench-digest-"));
  try {
    const db = openDatabase(join(dir, "chat.db"));
    countSqlite(db);
    const sqlite = new SqliteChatStore(db);
    const store = asAsyncChatStore(sqlite);
    try {
      const users = new Map<string, DirectoryUser>();
      const setup = clockMs();
      const messages = await fill(store, users);
      const result = await measure("sqlite", store, setup, users, messages);
      options.log(line(result));
      results.push(result);
    } finally {
      await sqlite.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (options.services) {
    countPostgres();
    const database = await createDatabase(options.services);
    try {
      const store = await PostgresChatStore.open({ url: database.url, max: 4 });
      try {
        const users = new Map<string, DirectoryUser>();
        const setup = clockMs();
        const messages = await fill(store, users);
        const result = await measure("postgres", store, setup, users, messages);
        options.log(line(result));
        results.push(result);
      } finally {
        await store.close();
      }
    } finally {
      await database.drop();
    }
  }
  return results;
}

function line(r: DigestResult): string {
  return `  digest ${r.store}: ${r.users.toLocaleString("en")} users, ${r.messages.toLocaleString("en")} messages → ${r.mails.toLocaleString("en")} mails in ${(r.runMs / 1000).toFixed(2)} s, ${r.queries.toLocaleString("en")} SQL statements (${(r.queries / Math.max(1, r.mails)).toFixed(2)} per mail); set-up ${r.setupS.toFixed(1)} s`;
}

/** The Markdown table for docs/performance.md. */
export function renderDigest(results: readonly DigestResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.store === "sqlite" ? "SQLite" : "PostgreSQL"} | ${r.users.toLocaleString("en")} | ${r.mails.toLocaleString("en")} | ${(r.runMs / 1000).toFixed(2)} s | ${r.queries.toLocaleString("en")} | ${(r.queries / Math.max(1, r.mails)).toFixed(2)} |`,
  );
  return [
    "| store | users with unread messages | mails | one job run | SQL statements | per mail |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
