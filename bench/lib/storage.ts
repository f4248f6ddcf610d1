/**
 * The storage scenario, on the 1,000,000-message database: start-up time of the server on it
 * (beside the bare relay's), and history pages and searches timed two ways: through the contract
 * (a socket's request to its ack, one at a time) and directly on the store's methods in-process.
 */
import { copyFileSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { Socket } from "socket.io-client";
import { openDatabase } from "../../src/storage/sqlite/open.js";
import { SqliteChatStore } from "../../src/storage/sqlite/sqlite-chat-store.js";
import { bigDatabase, USERS } from "./bigdb.js";
import { connect, signToken } from "./setup.js";
import { clockMs, latencySummary } from "./stats.js";
import { startRelay, startServer, tempDir } from "./targets.js";
import { rng, WordSampler } from "./words.js";

type Summary = ReturnType<typeof latencySummary>;

export interface StorageResult {
  run: number;
  messages: number;
  dbMb: number;
  buildS: number;
  indexS: number;
  startupMs: number;
  relayStartupMs: number;
  history: { socket: Summary; direct: Summary };
  search: { socket: Summary; direct: Summary; byClass: Record<string, { socket: Summary; direct: Summary }> };
}

interface HistoryQuery {
  user: string;
  roomId: string;
  beforeSeq?: number;
}

interface SearchQuery {
  user: string;
  kind: string;
  query: string;
  roomId?: string;
}

interface Workload {
  roomsOf: Map<string, string[]>;
  history: HistoryQuery[];
  search: SearchQuery[];
}

/** Typical users (seeded), their rooms, and the requests they make. */
function workload(path: string, quick: boolean): Workload {
  const db = new Database(path, { readonly: true });
  const random = rng(99);
  const roomsOf = new Map<string, string[]>();
  const lastSeq = new Map<string, number>();
  for (const row of db.prepare("SELECT id, last_seq FROM rooms").all() as {
    id: number;
    last_seq: number;
  }[]) {
    lastSeq.set(String(row.id), row.last_seq);
  }
  const roomsStmt = db.prepare("SELECT room_id FROM members WHERE user_id = ?").pluck();
  while (roomsOf.size < 8) {
    const user = String(1 + Math.floor(random() * USERS));
    const rooms = (roomsStmt.all(user) as number[]).map(String).filter((r) => (lastSeq.get(r) ?? 0) > 0);
    if (rooms.length >= 3) roomsOf.set(user, rooms);
  }
  db.close();
  const users = [...roomsOf.keys()];
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;

  const history: HistoryQuery[] = [];
  for (let i = 0; i < (quick ? 500 : 2000); i++) {
    const user = pick(users);
    const roomId = pick(roomsOf.get(user)!);
    const last = lastSeq.get(roomId)!;
    // half the latest page (opening a room), half an older page (scrolling up)
    history.push(
      i % 2 === 0 || last <= 50
        ? { user, roomId }
        : { user, roomId, beforeSeq: 51 + Math.floor(random() * (last - 50)) },
    );
  }

  const vocab = new WordSampler(2000).words;
  const byRank = (from: number, to: number) => vocab[from + Math.floor(random() * (to - from))]!;
  const kinds: Record<string, () => string> = {
    selective: () => byRank(1000, 2000),
    medium: () => byRank(100, 400),
    common: () => byRank(5, 30),
    "two words": () => `${byRank(5, 30)} ${byRank(100, 400)}`,
    prefix: () => {
      let w = "";
      while (w.length < 6) w = byRank(100, 400);
      return w.slice(0, 4);
    },
  };
  const search: SearchQuery[] = [];
  const names = Object.keys(kinds);
  for (let i = 0; i < (quick ? 150 : 500); i++) {
    const user = pick(users);
    const kind = names[i % names.length]!;
    // half over all the user's rooms, half inside one room
    const roomId = Math.floor(i / names.length) % 2 === 0 ? undefined : pick(roomsOf.get(user)!);
    search.push({ user, kind, query: kinds[kind]!(), ...(roomId ? { roomId } : {}) });
  }
  return { roomsOf, history, search };
}

/**
 * Latencies are measured in the steady state: after start-up the background worker spends most of
 * a second on the integrity check of the whole file (start-up itself does not wait for it).
 */
const settle = () => new Promise((r) => setTimeout(r, 2500));

/** Times each request to its ack, one at a time; the first tenth warms up and is not counted. */
async function overSockets(
  url: string,
  w: Workload,
): Promise<{ history: number[]; search: Map<string, number[]> }> {
  const sockets = new Map<string, Socket>();
  for (const user of w.roomsOf.keys()) sockets.set(user, await connect(url, await signToken(user)));
  const time = async (socket: Socket, event: string, payload: unknown) => {
    const started = clockMs();
    const ack = await socket.timeout(30_000).emitWithAck(event, payload);
    if (!ack?.ok) throw new Error(`${event} failed: ${JSON.stringify(ack?.error)}`);
    return clockMs() - started;
  };
  const history: number[] = [];
  for (const [i, q] of w.history.entries()) {
    const ms = await time(sockets.get(q.user)!, "message:history", {
      roomId: q.roomId,
      ...(q.beforeSeq ? { beforeSeq: q.beforeSeq } : {}),
    });
    if (i >= w.history.length / 10) history.push(ms);
  }
  const search = new Map<string, number[]>();
  for (const [i, q] of w.search.entries()) {
    const ms = await time(sockets.get(q.user)!, "message:search", {
      query: q.query,
      ...(q.roomId ? { roomId: q.roomId } : {}),
    });
    if (i >= w.search.length / 10) search.set(q.kind, [...(search.get(q.kind) ?? []), ms]);
  }
  for (const s of sockets.values()) s.close();
  return { history, search };
}

/** The same requests on the store's methods, in this process, without the network or the handler. */
async function direct(
  path: string,
  w: Workload,
): Promise<{ history: number[]; search: Map<string, number[]> }> {
  const store = new SqliteChatStore(openDatabase(path));
  await settle();
  const history: number[] = [];
  for (const [i, q] of w.history.entries()) {
    const started = clockMs();
    store.history(q.roomId, { beforeSeq: q.beforeSeq, limit: 50 });
    if (i >= w.history.length / 10) history.push(clockMs() - started);
  }
  const search = new Map<string, number[]>();
  for (const [i, q] of w.search.entries()) {
    const started = clockMs();
    store.search(q.roomId ? [q.roomId] : w.roomsOf.get(q.user)!, q.query, 20);
    if (i >= w.search.length / 10) search.set(q.kind, [...(search.get(q.kind) ?? []), clockMs() - started]);
  }
  await store.close();
  return { history, search };
}

export async function runStorage(options: {
  quick: boolean;
  runs: number;
  log: (line: string) => void;
  /** the database's size (default: 1,000,000 messages, 100,000 with --quick) */
  messages?: number;
}): Promise<StorageResult[]> {
  const db = bigDatabase(options.messages ?? (options.quick ? 100_000 : 1_000_000), options.log);
  const w = workload(db.path, options.quick);
  const results: StorageResult[] = [];
  for (let run = 1; run <= options.runs; run++) {
    const tmp = tempDir("twc-bench-storage-");
    try {
      const copy = join(tmp.dir, "chat.db");
      copyFileSync(db.path, copy);
      copyFileSync(`${db.path}-search`, `${copy}-search`);
      const relay = await startRelay();
      await relay.stop();
      const server = await startServer(copy);
      let socket: Awaited<ReturnType<typeof overSockets>>;
      try {
        await settle();
        socket = await overSockets(server.url, w);
      } finally {
        await server.stop();
      }
      const inProcess = await direct(copy, w);
      const all = (m: Map<string, number[]>) => [...m.values()].flat();
      const byClass: StorageResult["search"]["byClass"] = {};
      for (const kind of socket.search.keys()) {
        byClass[kind] = {
          socket: latencySummary(socket.search.get(kind)!),
          direct: latencySummary(inProcess.search.get(kind) ?? []),
        };
      }
      const result: StorageResult = {
        run,
        messages: db.messages,
        dbMb: statSync(db.path).size / 2 ** 20,
        buildS: db.buildS,
        indexS: db.indexS,
        startupMs: server.startupMs,
        relayStartupMs: relay.startupMs,
        history: { socket: latencySummary(socket.history), direct: latencySummary(inProcess.history) },
        search: {
          socket: latencySummary(all(socket.search)),
          direct: latencySummary(all(inProcess.search)),
          byClass,
        },
      };
      results.push(result);
      const f = (s: Summary) => `p50 ${s.p50.toFixed(2)} p99 ${s.p99.toFixed(2)} ms`;
      options.log(
        `run ${run}/${options.runs} storage: start-up ${result.startupMs.toFixed(0)} ms (relay ${result.relayStartupMs.toFixed(0)} ms); history socket ${f(result.history.socket)}, direct ${f(result.history.direct)}; search socket ${f(result.search.socket)}, direct ${f(result.search.direct)}`,
      );
    } finally {
      tmp.remove();
    }
  }
  return results;
}
