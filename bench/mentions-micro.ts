/**
 * Micro-bench: what mentions add to a send, apart from the rest of the send path. Per message:
 * finding the `@` runs and resolving them against a room of 10 (in memory), and on PostgreSQL the
 * one read of the room's member ids (`mentionTargets`, only for a body with an `@`), and the read
 * of a user's unread mention counts over 50 rooms (`memberViews`, once per room list).
 * Run: node --import tsx bench/mentions-micro.ts [--pg=postgres://…/postgres]
 */
import { mentionCandidates, resolveMentions } from "../src/chat/messages/mentions.js";
import { PostgresChatStore } from "../src/storage/postgres/postgres-chat-store.js";
import type { DirectoryUser } from "../src/users/types.js";
import { createDatabase, DEFAULT_SERVICES } from "./lib/postgres.js";
import { rng, WordSampler } from "./lib/words.js";

const pgArg = process.argv.find((a) => a.startsWith("--pg="))?.slice(5);
const members: DirectoryUser[] = Array.from({ length: 10 }, (_, i) => ({
  id: String(i + 1),
  login: `user${i + 1}`,
  name: `User ${i + 1}`,
  active: true,
  scope: null,
  email: null,
}));

const words = new WordSampler(300);
const random = rng(42);
const bodies = Array.from({ length: 100_000 }, (_, i) => {
  const body = words.body(random, 8);
  return i % 5 === 0 ? `${body} @user${1 + (i % 10)}` : body;
});

function perMessageUs(run: () => void, n: number): number {
  const started = performance.now();
  run();
  return ((performance.now() - started) * 1000) / n;
}

for (let round = 1; round <= 3; round++) {
  let found = 0;
  const us = perMessageUs(() => {
    for (const body of bodies) {
      const runs = mentionCandidates(body);
      if (runs.length > 0) found += resolveMentions(runs, "group", members).userIds.length;
    }
  }, bodies.length);
  process.stdout.write(
    `round ${round}: parse + resolve ${us.toFixed(2)} µs/message (20 % mentioning; ${found} found)\n`,
  );
}

const db = await createDatabase({ ...DEFAULT_SERVICES, ...(pgArg ? { pgAdminUrl: pgArg } : {}) });
const store = await PostgresChatStore.open({ url: db.url, max: 4 });
try {
  const at = new Date().toISOString();
  const rooms: string[] = [];
  for (let r = 0; r < 50; r++) {
    const room = await store.createGroup({
      name: `r${r}`,
      ownerId: "1",
      memberIds: ["2", "3", "4", "5", "6", "7", "8", "9", "10"],
      at,
    });
    rooms.push(room.id);
    for (let m = 0; m < 20; m++) {
      await store.sendMessage({
        roomId: room.id,
        senderId: "2",
        body: m % 5 === 0 ? "hi @user1" : "plain",
        clientId: null,
        replyToId: null,
        mentions: m % 5 === 0 ? { userIds: ["1"], all: false } : undefined,
        at,
      });
    }
  }
  const time = async (label: string, n: number, call: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < 50; i++) await call(i); // warm-up
    const started = performance.now();
    for (let i = 0; i < n; i++) await call(i);
    process.stdout.write(
      `${label}: ${(((performance.now() - started) * 1000) / n).toFixed(0)} µs each (${n} in a row)\n`,
    );
  };
  await time("PostgreSQL mentionTargets (room of 10)", 2000, (i) => store.mentionTargets(rooms[i % 50]!));
  await time("PostgreSQL membership (what every send already reads)", 2000, (i) =>
    store.membership(rooms[i % 50]!, "2"),
  );
  await time("PostgreSQL memberViews (50 rooms, 4 unread mentions each)", 500, () =>
    store.memberViews("1", rooms),
  );
} finally {
  await store.close();
  await db.drop();
}
