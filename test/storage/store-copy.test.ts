/**
 * `npm run store -- copy`: a SQLite file filled through the real SQLite store is copied into a
 * fresh PostgreSQL database, then read back through the PostgreSQL store and compared with what
 * the SQLite store answered. Re-running copies nothing; the file's bytes never change; a target
 * row changed afterwards is found and named; the command's usage mistakes are one clear line.
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import type pg from "pg";
import type { Message, QuietHours, WorkSchedule } from "../../src/protocol/index.js";
import type {
  AckRecord,
  FileRecord,
  NewFile,
  PushSubscriptionRecord,
  StoredRoom,
} from "../../src/storage/chat-store.js";
import { type CopyReport, copyStore } from "../../src/storage/copy/copy-store.js";
import { NOT_COPIED } from "../../src/storage/copy/tables.js";
import { migrate as migratePostgres } from "../../src/storage/postgres/migrations.js";
import { openPool } from "../../src/storage/postgres/pool.js";
import { PostgresChatStore } from "../../src/storage/postgres/postgres-chat-store.js";
import { recordKey } from "../../src/storage/records.js";
import type { AuditEntry } from "../../src/storage/retention.js";
import { openDatabase } from "../../src/storage/sqlite/open.js";
import { SqliteChatStore } from "../../src/storage/sqlite/sqlite-chat-store.js";
import { requireService, until } from "../support/harness.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres-database.js";
import { ROOT } from "../support/process.js";

/** (v2.4) a schedule for one user, quiet hours for another */
const HOURS = {
  schedule: { timeZone: "Europe/Lisbon", weekly: { mon: [["08:00", "16:30"]] } } satisfies WorkSchedule,
  quietHours: { timeZone: "America/Toronto", from: "22:00", to: "07:00" } satisfies QuietHours,
};
const skip = await requireService("postgres");
const run = promisify(execFile);
const TSX = import.meta.resolve("tsx");
const CLI = join(ROOT, "src/storage/copy/cli.ts");

const AT = "2026-03-01T10:00:00.000Z";
const at = (minute: number) => `2026-03-01T10:${String(minute).padStart(2, "0")}:00.000Z`;

/** What the SQLite store answered, to compare the PostgreSQL store's answers with. */
interface Expected {
  rooms: Map<string, StoredRoom | undefined>;
  history: Map<string, Message[]>;
  changes: Map<string, { messages: Message[]; rev: number }>;
  roomsOf: Map<string, string[]>;
  names: Map<string, string>;
  lastSeen: Map<string, string | null>;
  revokedBefore: number | null;
  secret: string;
  search: string[];
  /** file records by id: one attached, one not */
  files: Map<string, FileRecord | undefined>;
  /** (v2.3) u2's push subscriptions */
  push: PushSubscriptionRecord[];
  /** (v2.4) a notice's recipients, rooms' own retention, the audit log */
  acks: ReadonlyMap<string, AckRecord[]>;
  retentions: ReadonlyMap<string, number>;
  audit: AuditEntry[];
}

const USERS = ["u1", "u2", "u3", "u4"];

/** Fills the file through the real SQLite store: every kind of row it keeps. */
async function fill(path: string): Promise<Expected> {
  const store = new SqliteChatStore(openDatabase(path));
  try {
    await store.rememberUsers(USERS.map((id) => ({ id, name: `User ${id}` })));
    await store.setLastSeen("u2", at(3));
    const direct = (await store.openDirect("u1", "u2", AT)).room;
    const group = await store.createGroup({
      name: "Ops",
      ownerId: "u1",
      memberIds: ["u1", "u2", "u3"],
      at: AT,
    });
    const synced = await store.syncGroup({
      externalKey: "team:42",
      name: "Team 42",
      memberIds: ["u3", "u4", "u1"],
      ownerId: null,
      adminIds: ["u4"],
      at: AT,
    });
    const send = (
      roomId: string,
      senderId: string,
      body: string,
      minute: number,
      replyToId: string | null = null,
      fileIds: string[] = [],
    ) =>
      store.sendMessage({
        roomId,
        senderId,
        body,
        clientId: `c-${senderId}-${minute}`,
        replyToId,
        fileIds,
        at: at(minute),
      });
    const upload = (uploaderId: string, name: string, image: boolean): NewFile => ({
      uploaderId,
      name,
      size: image ? 2048 : 99,
      type: image ? "image/png" : "application/pdf",
      width: image ? 800 : null,
      height: image ? 600 : null,
      hasThumbnail: image,
      storeKey: `ab/${name}-key`,
      at: at(4),
    });
    const photo = await store.createFile(upload("u4", "photo.png", true), 1_000_000);
    const loose = await store.createFile(upload("u1", "never sent.pdf", false), 1_000_000);

    const hello = (await send(direct.id, "u1", "Hello, café people", 1)).message;
    await send(direct.id, "u2", "Hi | there\nnew line", 2, hello.id);
    await store.sendMessage({
      roomId: direct.id,
      senderId: "u2",
      body: "no client id",
      clientId: null,
      replyToId: null,
      at: at(3),
    });
    for (let i = 0; i < 30; i++) await send(group.id, USERS[i % 3]!, `group message ${i} 🚀`, 10 + (i % 40));
    const first = (await store.history(group.id, { limit: 1, afterSeq: 0 })).messages[0]!;
    await store.editMessage(first.id, "edited first message @u2 @all", at(50), {
      userIds: ["u2"],
      all: true,
    });
    await store.react(first.id, "u2", "👍", true);
    await store.react(first.id, "u3", "🎉", true);
    await store.react(first.id, "u1", "👍", true);
    const second = (await store.history(group.id, { limit: 1, afterSeq: 1 })).messages[0]!;
    await store.deleteMessage(second.id, at(51));
    await store.markRead(group.id, "u2", 20);
    await store.markRead(direct.id, "u1", 2);
    await store.rename(group.id, "Ops & friends");
    await store.setRole(group.id, "u3", "admin");
    await store.removeMember(group.id, "u2");
    await send(synced.room.id, "u4", "synced room hello", 5, null, [photo.id]);
    await store.revokeTokens("u3", 1_770_000_000);
    await store.setNotify(group.id, "u3", "mentions");
    await store.setUserPrefs("u1", { email: "off", emailDelayMin: 30, push: false });
    // v2.4: working hours, quiet hours, an urgent message
    await store.setSchedule("u1", HOURS.schedule, at(52));
    await store.setQuietHours("u3", HOURS.quietHours, at(52));
    await store.recordUrgent({ messageId: first.id, roomId: group.id, senderId: "u1", at: at(53) });
    const secret = store.serverSecret("token");
    for (const n of [1, 2]) {
      await store.savePushSubscription(
        {
          userId: "u2",
          endpoint: `https://push.example.com/u2/${n}`,
          p256dh: `k${n}`,
          auth: `a${n}`,
          createdAt: at(n),
        },
        20,
      );
    }
    // v2.3 digests (a mark, a digest and its item) and v2.4 notices, retention and the audit log
    await store.queueDigests(
      [{ userId: "u2", roomId: group.id, seq: 20 }],
      [{ userId: "u2", messages: [{ messageId: first.id, roomId: group.id, seq: first.seq }], mail: true }],
      at(52),
    );
    await store.requestAcks(hello.id, ["u2"]);
    await store.acknowledge(hello.id, "u2", at(53));
    await store.setRoomRetention(group.id, 30);
    await store.appendAudit({
      at: at(54),
      action: "rooms.retention",
      target: `room:${group.id}`,
      details: { days: 30 },
    });

    // a record's conversation: its link lives in rooms.record_url
    const onRecord = await store.syncGroup({
      externalKey: recordKey("timesheet", "42"),
      name: "Timesheet 42",
      memberIds: ["u1"],
      ownerId: null,
      adminIds: [],
      recordUrl: "https://timewise.example.com/timesheets/42",
      at: AT,
    });
    assert.equal(onRecord.room.record?.url, "https://timewise.example.com/timesheets/42");

    const roomIds = [direct.id, group.id, synced.room.id, onRecord.roomId];
    const expected: Expected = {
      rooms: new Map(roomIds.map((id) => [id, store.room(id)])),
      history: new Map(roomIds.map((id) => [id, store.history(id, { limit: 1000 }).messages])),
      changes: new Map(roomIds.map((id) => [id, store.changes(id, 0, 1000)])),
      roomsOf: new Map(USERS.map((u) => [u, idsOf(store.roomsOf(u))])),
      names: new Map(USERS.map((u) => [u, store.userName(u)])),
      lastSeen: new Map(USERS.map((u) => [u, store.lastSeenAt(u)])),
      revokedBefore: store.tokensRevokedBefore("u3"),
      secret,
      search: [],
      files: new Map([photo.id, loose.id].map((id) => [id, store.file(id)])),
      push: store.pushSubscriptionsOf(["u2"]),
      acks: store.acksOf([hello.id]),
      retentions: store.roomRetentions(),
      audit: store.auditEntries({ limit: 100 }),
    };
    assert.equal(expected.acks.get(hello.id)?.length, 1);
    await store.flush();
    // the indexer fills SQLite's search file shortly after commit: wait for it to find the message
    await until(
      () => {
        expected.search = store.search(roomIds, "cafe", 10).map((m) => m.id);
        return expected.search.length > 0;
      },
      5000,
      "SQLite search to find the message",
    );
    return expected;
  } finally {
    await store.close();
  }
}

/** Room ids in id order (the two stores list a user's rooms in different orders). */
const idsOf = (rooms: readonly StoredRoom[]) => rooms.map((r) => r.id).sort((a, b) => Number(a) - Number(b));

const fileHash = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

describe("copying a SQLite chat file into PostgreSQL", { skip }, () => {
  let dir: string;
  let path: string;
  let target: TestDatabase;
  let pool: pg.Pool;
  let expected: Expected;
  let first: CopyReport;
  let bytesBefore: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "twc-copy-"));
    path = join(dir, "chat.db");
    expected = await fill(path);
    bytesBefore = fileHash(path);
    target = await createTestDatabase("copy");
    pool = openPool({ url: target.url, max: 2 });
    first = await copyStore({ sqlitePath: path, pool });
  });
  after(async () => {
    await pool?.end();
    await target?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the first run copies every room, member, message and table and finds them equal", () => {
    assert.deepEqual(first.problems, []);
    assert.equal(first.rooms, 4);
    assert.equal(first.messages, 34);
    assert.equal(first.addedMessages, 34);
    assert.equal(first.members, 2 + 2 + 3 + 1);
    const added = Object.fromEntries(first.tables.map((t) => [t.table, t.added]));
    assert.deepEqual(added, {
      known_users: 4,
      token_revocations: 1,
      server_secrets: 1,
      directory_users: 0,
      file_deletions: 0,
      user_prefs: 1,
      digest_marks: 1,
      digests: 1,
      digest_items: 1,
      audit_log: 1,
      user_hours: 2,
      urgent_messages: 1,
      push_subscriptions: 2,
      files: 2,
      message_acks: 1,
      room_retention: 1,
    });
  });

  test("the PostgreSQL store answers exactly as the SQLite store did", async () => {
    const store = new PostgresChatStore(openPool({ url: target.url, max: 2 }));
    try {
      for (const [id, room] of expected.rooms) {
        assert.deepEqual(await store.room(id), room, `room ${id}`);
        assert.deepEqual((await store.history(id, { limit: 1000 })).messages, expected.history.get(id));
        const changes = await store.changes(id, 0, 1000);
        assert.deepEqual(
          { messages: changes.messages, rev: changes.rev },
          {
            messages: expected.changes.get(id)!.messages,
            rev: expected.changes.get(id)!.rev,
          },
        );
      }
      for (const user of USERS) {
        assert.deepEqual(idsOf(await store.roomsOf(user)), expected.roomsOf.get(user));
        assert.equal(await store.userName(user), expected.names.get(user));
        assert.equal(await store.lastSeenAt(user), expected.lastSeen.get(user));
      }
      assert.equal(await store.tokensRevokedBefore("u3"), expected.revokedBefore);
      assert.equal(await store.serverSecret("token"), expected.secret);
      // v2.3: mentions travel with the messages (above); settings and prefs come along too
      const group = [...expected.rooms.keys()][1]!;
      assert.deepEqual(
        await store.memberViews("u3", [group]),
        new Map([[group, { notify: "mentions", mentions: 1 }]]),
      );
      assert.deepEqual(await store.userPrefs("u1"), { email: "off", emailDelayMin: 30, push: false });
      assert.equal(expected.push.length, 2);
      assert.deepEqual(await store.pushSubscriptionsOf(["u2"]), expected.push);
      assert.deepEqual(
        [...(await store.hoursOf(["u1", "u3"])).entries()],
        [
          ["u1", { schedule: HOURS.schedule, quietHours: null }],
          ["u3", { schedule: null, quietHours: HOURS.quietHours }],
        ],
      );
      assert.deepEqual(
        (await store.urgentMessages({ limit: 10 })).map((u) => [u.roomId, u.senderId]),
        [[group, "u1"]],
      );
      assert.deepEqual(
        [...expected.files.values()].map((f) => f?.messageId === null),
        [false, true],
        "one file attached, one not",
      );
      for (const [id, file] of expected.files) assert.deepEqual(await store.file(id), file, `file ${id}`);
      const [notice] = [...expected.acks.keys()];
      assert.deepEqual(await store.acksOf([notice!]), expected.acks);
      assert.deepEqual(await store.roomRetentions(), expected.retentions);
      assert.deepEqual(await store.auditEntries({ limit: 100 }), expected.audit);
      assert.notEqual(expected.search.length, 0);
      const roomIds = [...expected.rooms.keys()];
      assert.deepEqual(
        (await store.search(roomIds, "cafe", 10)).map((m) => m.id),
        expected.search,
      );
    } finally {
      await store.close();
    }
  });

  test("every table both schemas have is copied, or is named as left out on purpose", async () => {
    const sqlite = openDatabase(join(dir, "schema.db"));
    const fresh = await createTestDatabase("copytables");
    const freshPool = openPool({ url: fresh.url, max: 1 });
    try {
      await migratePostgres(freshPool);
      const inSqlite = sqlite
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .pluck()
        .all() as string[];
      const { rows } = await freshPool.query<{ name: string }>(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
      );
      const inPostgres = new Set(rows.map((r) => r.name));
      const inBoth = inSqlite.filter((t) => inPostgres.has(t)).sort();
      const copied = [...first.tables.map((t) => t.table), "rooms", "members", "messages"];
      const left = inBoth.filter((t) => !copied.includes(t));
      assert.deepEqual(
        left,
        Object.keys(NOT_COPIED)
          .filter((t) => inBoth.includes(t))
          .sort(),
      );
      for (const table of ["digest_items", "message_acks", "audit_log"]) {
        assert.ok(inBoth.includes(table), `both schemas were read: ${table}`);
      }
    } finally {
      sqlite.close();
      await freshPool.end();
      await fresh.drop();
    }
  });

  test("new rooms, messages and files in PostgreSQL get ids after the copied ones", async () => {
    const store = new PostgresChatStore(openPool({ url: target.url, max: 2 }));
    try {
      const copied = [...expected.rooms.keys()].map(Number);
      const room = await store.createGroup({ name: "After", ownerId: "u1", memberIds: ["u1"], at: AT });
      assert.ok(Number(room.id) > Math.max(...copied));
      const sent = await store.sendMessage({
        roomId: room.id,
        senderId: "u1",
        body: "new",
        clientId: null,
        replyToId: null,
        at: AT,
      });
      const copiedIds = [...expected.history.values()].flat().map((m) => Number(m.id));
      assert.ok(Number(sent.message.id) > Math.max(...copiedIds));
      const file = await store.createFile(
        {
          uploaderId: "u1",
          name: "after.txt",
          size: 1,
          type: "text/plain",
          width: null,
          height: null,
          hasThumbnail: false,
          storeKey: "ab/after-key",
          at: AT,
        },
        1_000_000,
      );
      assert.ok(Number(file.id) > Math.max(...[...expected.files.keys()].map(Number)));
      // removed again, so the next run finds the files table as the copy left it
      await store.deleteFile(file.id, AT);
      await store.forgetFileDeletions([file.storeKey]);
    } finally {
      await store.close();
    }
  });

  test("running the copy again copies nothing new and still checks every room", async () => {
    const again = await copyStore({ sqlitePath: path, pool });
    assert.deepEqual(again.problems, []);
    assert.equal(again.rooms, 4);
    assert.equal(again.messages, 34);
    assert.equal(again.addedMessages, 0);
    assert.ok(again.tables.every((t) => t.added === 0));
  });

  test("the SQLite file's bytes are unchanged by the copies", () => {
    assert.equal(fileHash(path), bytesBefore);
  });

  test("a message changed in the target is found and its room named, and nothing else fails", async () => {
    const [groupId] = [...expected.rooms.keys()].slice(1, 2);
    await pool.query("UPDATE messages SET body = 'tampered' WHERE room_id = $1 AND seq = 5", [groupId]);
    const report = await copyStore({ sqlitePath: path, pool });
    assert.equal(report.problems.length, 1);
    assert.match(report.problems[0]!, new RegExp(`^room ${groupId}: its messages differ`));
  });

  test("a target room with other values is rolled back whole and named", async () => {
    const fresh = await createTestDatabase("copyconflict");
    const other = openPool({ url: fresh.url, max: 2 });
    try {
      const store = await PostgresChatStore.open({ url: fresh.url, max: 2 });
      // the target already has a room 1 of its own, with one message
      const room = (await store.openDirect("x1", "x2", AT)).room;
      await store.sendMessage({
        roomId: room.id,
        senderId: "x1",
        body: "mine",
        clientId: null,
        replyToId: null,
        at: AT,
      });
      await store.close();
      const report = await copyStore({ sqlitePath: path, pool: other });
      assert.deepEqual(report.problems, [
        "room 1: the target already has this room with other values (name, seq, rev, times or keys); nothing was copied for it",
      ]);
      const { rows } = await other.query("SELECT count(*)::int AS n FROM messages WHERE room_id = 1");
      assert.equal(rows[0].n, 1);
      const copied = await other.query("SELECT count(*)::int AS n FROM messages WHERE room_id <> 1");
      assert.equal(copied.rows[0].n, 34 - 3);
    } finally {
      await other.end();
      await fresh.drop();
    }
  });

  describe("the command", () => {
    const cli = async (...args: string[]) => {
      try {
        const { stdout, stderr } = await run(process.execPath, ["--import", TSX, CLI, ...args], { cwd: dir });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const e = error as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };
    const oneLine = (stderr: string) => {
      const lines = stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, stderr);
      return lines[0]!;
    };

    for (const [what, args, message] of [
      [
        "without --from",
        ["copy", "--to", "postgres://root@127.0.0.1/x"],
        /^Say which file to copy: --from sqlite:/,
      ],
      ["without --to", ["copy", "--from", "sqlite:./chat.db"], /^Say where to copy it: --to postgres:\/\//],
      [
        "with a missing file",
        ["copy", "--from", "sqlite:./nope.db", "--to", "postgres://root@127.0.0.1/x"],
        /^Check the --from path: there is no file at \.\/nope\.db\.$/,
      ],
      [
        "with a URL that is not PostgreSQL",
        ["copy", "--from", "sqlite:./chat.db", "--to", "mysql://x"],
        /^Give the PostgreSQL database as --to postgres:\/\//,
      ],
      ["with an unknown option", ["copy", "--form", "x"], /^Unknown option '--form'/],
      ["with an unknown command", ["move"], /^Unknown command "move"/],
      [
        "with a database that cannot be reached",
        ["copy", "--from", "sqlite:./chat.db", "--to", "postgres://root:secret@127.0.0.1:1/x"],
        /^Check the --to URL and that PostgreSQL is running: cannot connect to postgres:\/\/root:\*\*\*@127\.0\.0\.1:1\/x /,
      ],
    ] as const) {
      test(`run ${what}, it prints one clear line and exits 1`, async () => {
        const result = await cli(...args);
        assert.equal(result.code, 1);
        assert.match(oneLine(result.stderr), message);
      });
    }

    test("a run that finds a difference prints it and exits 2; the summary says to fix the target", async () => {
      const result = await cli("copy", "--from", "sqlite:./chat.db", "--to", target.url);
      assert.equal(result.code, 2);
      assert.match(oneLine(result.stderr), /^Differs: room \d+: its messages differ/);
      assert.match(result.stdout, /Copied 4 rooms, 8 members and 34 messages \(0 new\)/);
      assert.match(result.stdout, /rooms or tables differ in the target/);
    });
  });
});
