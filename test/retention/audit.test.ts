/**
 * (v2.4) The audit log of the server API, on SQLite and PostgreSQL (TEST_CHAT_STORE=postgres):
 * every route that changes data (or hands a user's data out) leaves exactly one entry, with its
 * action, target and details, and no secret in them; reads leave none. The route list in
 * src/http/server-api.ts is checked against this test's, so a new route cannot go untested. The
 * log is append-only: the store has no method to change it, and the database itself refuses an
 * UPDATE or DELETE of its rows.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import type { ChatStore } from "../../src/storage/chat-store.js";
import { postFile } from "../support/files.js";
import { startServer, type TestServer } from "../support/harness.js";
import { ROOT } from "../support/process.js";
import { group, type Person, person, send } from "../support/rooms.js";

const KEY = "audit-test-service-key-0123456789abcdef";

interface Entry {
  /** for paging on with `after=` */
  id: string;
  at: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

/** The routes the header of server-api.ts lists, as "METHOD /api/server/…". */
function documentedRoutes(): string[] {
  const source = readFileSync(join(ROOT, "src/http/server-api.ts"), "utf8");
  return [...source.matchAll(/^ \*\s+(GET|POST|PUT|DELETE)\s+(\/api\/server\/\S+?)(\?\S*)?\s/gm)].map(
    (m) => `${m[1]} ${m[2]}`,
  );
}

describe("the audit log of the server API", () => {
  let server: TestServer;
  let ann: Person;
  let bob: Person;
  before(async () => {
    server = await startServer({ env: { SERVICE_API_KEY: KEY } });
    ann = await person(server);
    bob = await person(server);
  });
  after(() => server?.close());

  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const entries = async (): Promise<Entry[]> => {
    const answer = await api("GET", "/api/server/audit?limit=1000");
    assert.equal(answer.status, 200);
    return ((await answer.json()) as { entries: Entry[] }).entries;
  };

  /**
   * Each route, called once: what it answers, and the one entry it must leave (a function of the
   * answer, as ids are handed out by the call).
   */
  interface Case {
    route: string;
    call: () => Promise<{ status: number; body: Record<string, unknown> }>;
    status: number;
    entry: ((body: Record<string, unknown>) => Omit<Entry, "at" | "id">) | null;
  }
  /** The status and the JSON body (a ZIP is read to its end and stands as `{}`). */
  const asJson = async (answer: Response) => {
    if (answer.headers.get("content-type")?.includes("json")) {
      return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
    }
    await answer.arrayBuffer();
    return { status: answer.status, body: {} };
  };
  const idOf = (body: Record<string, unknown>, key: "room" | "message" | "file") =>
    (body[key] as { id: string }).id;

  const minted: string[] = [];
  const cases = (): Case[] => [
    {
      route: "POST /api/server/users/:userId/files",
      call: async () => {
        const up = await postFile(server.url, `Bearer ${KEY}`, new Uint8Array(12).fill(7), {
          name: "a.txt",
          path: `/api/server/users/${ann.id}/files`,
        });
        return { status: up.status, body: { file: up.file } };
      },
      status: 201,
      entry: (b) => ({
        action: "files.upload",
        target: `user:${ann.id}`,
        details: { fileId: idOf(b, "file"), size: 12 },
      }),
    },
    {
      route: "PUT /api/server/rooms/:externalKey",
      call: async () =>
        asJson(
          await api("PUT", "/api/server/rooms/team:audit", { name: "Audit", memberIds: [ann.id, bob.id] }),
        ),
      status: 201,
      entry: (b) => ({
        action: "rooms.sync",
        target: `room:${idOf(b, "room")}`,
        details: { externalKey: "team:audit", created: true },
      }),
    },
    {
      route: "GET /api/server/rooms/:externalKey",
      call: async () => asJson(await api("GET", "/api/server/rooms/team:audit")),
      status: 200,
      entry: null,
    },
    {
      route: "POST /api/server/messages",
      call: async () =>
        asJson(
          await api("POST", "/api/server/messages", {
            roomKey: "team:audit",
            senderId: ann.id,
            body: "posted by the PHP app",
            clientId: "audit-1",
          }),
        ),
      status: 201,
      entry: (b) => ({
        action: "messages.post",
        target: `room:${(b.message as { roomId: string }).roomId}`,
        details: { messageId: idOf(b, "message"), senderId: ann.id },
      }),
    },
    {
      route: "PUT /api/server/records/:kind/:recordId",
      call: async () =>
        asJson(
          await api("PUT", "/api/server/records/timesheet/77", {
            title: "Timesheet 77",
            url: "https://timewise.example.com/timesheets/77",
            memberIds: [ann.id],
          }),
        ),
      status: 201,
      entry: (b) => ({
        action: "records.attach",
        target: `room:${idOf(b, "room")}`,
        details: { kind: "timesheet", recordId: "77", created: true },
      }),
    },
    {
      route: "GET /api/server/users/:userId/unread",
      call: async () => asJson(await api("GET", `/api/server/users/${ann.id}/unread`)),
      status: 200,
      entry: null,
    },
    {
      route: "POST /api/server/tokens",
      call: async () => {
        const answer = await asJson(await api("POST", "/api/server/tokens", { userId: bob.id, ttlS: 600 }));
        minted.push(answer.body.token as string);
        return answer;
      },
      status: 200,
      entry: () => ({ action: "tokens.mint", target: `user:${bob.id}`, details: { ttlS: 600 } }),
    },
    {
      route: "POST /api/server/users/:userId/disconnect",
      call: async () => asJson(await api("POST", `/api/server/users/${bob.id}/disconnect`, {})),
      status: 200,
      entry: () => ({ action: "users.disconnect", target: `user:${bob.id}`, details: {} }),
    },
    {
      route: "PUT /api/server/rooms/:roomId/retention",
      call: async () => {
        const room = await group(ann, [], "Short-lived");
        const answer = await asJson(await api("PUT", `/api/server/rooms/${room.id}/retention`, { days: 14 }));
        return { ...answer, body: { ...answer.body, room } };
      },
      status: 200,
      entry: (b) => ({ action: "rooms.retention", target: `room:${idOf(b, "room")}`, details: { days: 14 } }),
    },
    {
      route: "GET /api/server/users/:userId/export",
      call: async () => asJson(await api("GET", `/api/server/users/${ann.id}/export`)),
      status: 200,
      entry: () => ({ action: "users.export", target: `user:${ann.id}`, details: {} }),
    },
    {
      route: "DELETE /api/server/users/:userId/messages",
      call: async () => {
        // Bob was disconnected above: someone still connected sends the message
        const cid = await person(server);
        const room = await group(cid, []);
        await send(cid.socket, room.id, "to be erased");
        const answer = await asJson(await api("DELETE", `/api/server/users/${cid.id}/messages`));
        return { ...answer, body: { ...answer.body, userId: cid.id } };
      },
      status: 200,
      entry: (b) => ({ action: "users.erase", target: `user:${b.userId}`, details: { deleted: 1 } }),
    },
    {
      route: "PUT /api/server/users/:userId/schedule",
      call: async () =>
        asJson(
          await api("PUT", `/api/server/users/${ann.id}/schedule`, {
            timeZone: "Europe/Lisbon",
            weekly: { mon: [["08:00", "16:30"]] },
          }),
        ),
      status: 200,
      entry: () => ({
        action: "users.schedule",
        target: `user:${ann.id}`,
        details: { kind: "weekly", timeZone: "Europe/Lisbon" },
      }),
    },
    {
      route: "GET /api/server/urgent",
      call: async () => asJson(await api("GET", "/api/server/urgent")),
      status: 200,
      entry: null,
    },
    {
      route: "GET /api/server/audit",
      call: async () => asJson(await api("GET", "/api/server/audit")),
      status: 200,
      entry: null,
    },
  ];

  test("the test covers every route server-api.ts lists", () => {
    const documented = documentedRoutes();
    assert.ok(documented.length >= 12, `the route list was read: ${documented.join(", ")}`);
    assert.deepEqual(
      cases()
        .map((c) => c.route)
        .sort(),
      [...documented].sort(),
    );
  });

  test("each route that changes data leaves one entry with its action, target and details; reads leave none", async () => {
    for (const c of cases()) {
      const before = (await entries()).length;
      const answer = await c.call();
      assert.equal(answer.status, c.status, `${c.route}: ${JSON.stringify(answer.body)}`);
      const added = (await entries()).slice(before);
      if (c.entry === null) {
        assert.deepEqual(added, [], `${c.route} reads only`);
        continue;
      }
      assert.equal(added.length, 1, `${c.route}: ${JSON.stringify(added)}`);
      const { id, at, ...rest } = added[0]!;
      assert.deepEqual(rest, c.entry(answer.body), c.route);
      assert.match(id, /^[1-9][0-9]*$/);
      assert.ok(Number.isFinite(Date.parse(at)), `${c.route}: at is a time`);
    }
  });

  test("no entry holds a secret: neither the service key nor a minted token", async () => {
    assert.equal(minted.length, 1, "the routes test minted a token");
    const text = JSON.stringify(await entries());
    assert.ok(!text.includes(KEY));
    for (const token of minted) {
      assert.ok(!text.includes(token));
      for (const part of token.split(".")) assert.ok(!text.includes(part), "no part of the token either");
    }
  });

  test("the store has no way to change or remove entries, and the database refuses both", async () => {
    const auditMethods = (["appendAudit", "auditEntries"] satisfies (keyof ChatStore)[]).sort();
    const store = server.app.store as unknown as Record<string, unknown>;
    const found = Object.keys(store)
      .concat(Object.getOwnPropertyNames(Object.getPrototypeOf(store)))
      .filter((name) => /audit/i.test(name))
      .sort();
    assert.deepEqual([...new Set(found)], auditMethods);
    assert.ok((await entries()).length > 0);

    const refused = /append-only/;
    if (server.database) {
      const client = new pg.Client({ connectionString: server.database.url });
      await client.connect();
      try {
        await assert.rejects(client.query("UPDATE audit_log SET action = 'x'"), refused);
        await assert.rejects(client.query("DELETE FROM audit_log"), refused);
        await assert.rejects(client.query("TRUNCATE audit_log"), refused);
      } finally {
        await client.end();
      }
    } else {
      assert.throws(() => server.db.prepare("UPDATE audit_log SET action = 'x'").run(), refused);
      assert.throws(() => server.db.prepare("DELETE FROM audit_log").run(), refused);
    }
    const after = await entries();
    assert.ok(after.every((e) => e.action !== "x"));
    assert.ok(after.length > 0);
  });
});
