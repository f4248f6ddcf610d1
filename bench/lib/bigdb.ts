/**
 * The storage scenario's database: a company of 1,000 users, 300 groups and 1,700 direct rooms
 * holding 1,000,000 messages (a few busy rooms, many quiet ones), made through the real schema
 * (openDatabase runs the migrations) and indexed for search by the server's own indexer (into its
 * `-search` file). It is kept in the temp folder and made again only when the schema or the search code changes.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/storage/sqlite/open.js";
import { indexAllForSearch } from "../../src/storage/sqlite/search.js";
import { clockMs } from "./stats.js";
import { REPO_DIR } from "./targets.js";
import { rng, WordSampler } from "./words.js";

export const USERS = 1000;
const GROUPS = 300;
const DIRECTS = 1700;
const GENERATOR_VERSION = 1;

export interface BigDb {
  path: string;
  messages: number;
  /** seconds it took to make (0 when it was already there) */
  buildS: number;
  indexS: number;
}

/** The cache key: the generator and everything that shapes the file. */
function fingerprint(messages: number): string {
  const hash = createHash("sha256").update(`${GENERATOR_VERSION}:${messages}`);
  // the files that decide what the database and its search index hold
  for (const file of ["migrations.ts", "search-indexer.ts"]) {
    hash.update(readFileSync(join(REPO_DIR, "src/storage/sqlite", file)));
  }
  return hash.digest("hex").slice(0, 12);
}

export function bigDatabase(messages: number, log: (line: string) => void): BigDb {
  const path = join(tmpdir(), `twc-bench-${messages}-${fingerprint(messages)}.db`);
  if (existsSync(path)) return { path, messages, buildS: 0, indexS: 0 };
  log(`  making a ${messages.toLocaleString("en")}-message database at ${path} (kept for later runs) …`);
  const building = `${path}.building`;
  for (const suffix of ["", "-wal", "-shm", "-search", "-search-wal", "-search-shm"]) {
    rmSync(building + suffix, { force: true });
  }
  const started = clockMs();
  fill(building, messages);
  const filled = clockMs();
  const db = openDatabase(building);
  indexAllForSearch(db);
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  const indexS = (clockMs() - filled) / 1000;
  // the index file first: the database's name is what says "ready"
  renameSync(`${building}-search`, `${path}-search`);
  renameSync(building, path);
  const buildS = (filled - started) / 1000;
  log(`  made in ${buildS.toFixed(1)} s, indexed for search in ${indexS.toFixed(1)} s`);
  return { path, messages, buildS, indexS };
}

function fill(path: string, total: number): void {
  const db = openDatabase(path);
  db.pragma("synchronous = OFF"); // a generator, not a chat server: durability does not matter here
  const random = rng(42);
  const words = new WordSampler(2000, 1.0);
  const t0 = Date.parse("2024-01-01T00:00:00Z");
  const iso = (ms: number) => new Date(ms).toISOString();

  const addUser = db.prepare(
    "INSERT INTO directory_users (id, login, name, active, created_at) VALUES (?, ?, ?, 1, ?)",
  );
  const addKnown = db.prepare("INSERT INTO known_users (id, name) VALUES (?, ?)");
  const addRoom = db.prepare(
    "INSERT INTO rooms (id, type, name, direct_key, created_at, last_activity_at) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const addMember = db.prepare(
    "INSERT INTO members (room_id, user_id, role, joined_at, join_order) VALUES (?, ?, ?, ?, ?)",
  );
  const addMessage = db.prepare(
    "INSERT INTO messages (id, room_id, seq, rev, sender_id, body, client_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const finishRoom = db.prepare("UPDATE rooms SET last_seq = ?, rev = ?, last_activity_at = ? WHERE id = ?");
  const markRead = db.prepare("UPDATE members SET read_seq = ? WHERE room_id = ?");

  const members: string[][] = [];
  db.transaction(() => {
    for (let id = 1; id <= USERS; id++) {
      addUser.run(id, `user${id}`, `Bench User ${id}`, iso(t0));
      addKnown.run(String(id), `Bench User ${id}`);
    }
    const directKeys = new Set<string>();
    for (let r = 1; r <= GROUPS + DIRECTS; r++) {
      let ids: string[];
      if (r <= GROUPS) {
        const size = 3 + Math.floor(random() ** 2 * 48);
        const set = new Set<string>();
        while (set.size < size) set.add(String(1 + Math.floor(random() * USERS)));
        ids = [...set];
        addRoom.run(r, "group", `Group ${r}`, null, iso(t0), iso(t0));
      } else {
        let a = 0;
        let b = 0;
        do {
          a = 1 + Math.floor(random() * USERS);
          b = 1 + Math.floor(random() * USERS);
        } while (a === b || directKeys.has(`${Math.min(a, b)}:${Math.max(a, b)}`));
        const key = `${Math.min(a, b)}:${Math.max(a, b)}`;
        directKeys.add(key);
        ids = [String(a), String(b)];
        addRoom.run(r, "direct", null, key, iso(t0), iso(t0));
      }
      ids.forEach((u, i) => {
        addMember.run(r, u, r <= GROUPS && i === 0 ? "owner" : "member", iso(t0), i + 1);
      });
      members.push(ids);
    }
  })();

  // busy rooms and quiet ones: room k (in a shuffled order) gets a share ∝ 1/(k + 5)^0.9
  const rooms = members.length;
  const order = Array.from({ length: rooms }, (_, i) => i).sort(() => random() - 0.5);
  const cdf = new Float64Array(rooms);
  let sum = 0;
  for (let k = 0; k < rooms; k++) {
    sum += 1 / (k + 5) ** 0.9;
    cdf[k] = sum;
  }
  const pickRoom = () => {
    const x = random() * sum;
    let lo = 0;
    let hi = rooms - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return order[lo]!;
  };
  const seqs = new Int32Array(rooms);
  const lastAt = new Float64Array(rooms);
  const BATCH = 50_000;
  for (let start = 0; start < total; start += BATCH) {
    db.transaction(() => {
      for (let id = start + 1; id <= Math.min(total, start + BATCH); id++) {
        const r = pickRoom();
        const seq = ++seqs[r]!;
        const at = t0 + id * 30_000;
        lastAt[r] = at;
        const roomMembers = members[r]!;
        const sender = roomMembers[Math.floor(random() * roomMembers.length)]!;
        const body = words.body(random, 4 + Math.floor(random() * 14));
        addMessage.run(id, r + 1, seq, seq, sender, body, `c${id.toString(36)}`, iso(at));
      }
    })();
  }
  db.transaction(() => {
    for (let r = 0; r < rooms; r++) {
      finishRoom.run(seqs[r], seqs[r], iso(lastAt[r] || t0), r + 1);
      markRead.run(seqs[r], r + 1);
    }
  })();
  db.close();
}
