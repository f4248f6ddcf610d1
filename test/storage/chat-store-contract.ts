/**
 * The chat store's contract at store level, written once and run against every store: the SQLite
 * store (through `asAsyncChatStore`) and the PostgreSQL store. Both must give the same answers to
 * the same calls. One store serves a whole file; each test uses its own users and rooms.
 */

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { LIMITS } from "../../src/protocol/index.js";
import type { AsyncChatStore } from "../../src/storage/async-chat-store.js";
import type { StoredRoom } from "../../src/storage/chat-store.js";
import { recordKey } from "../../src/storage/records.js";
import { until } from "../support/harness.js";

export interface OpenedStore {
  store: AsyncChatStore;
  /** closes the store (and any `another`) and removes its database */
  dispose(): Promise<void>;
  /** a second store on the same database, as a second node would open it; closed by `dispose` */
  another(): Promise<AsyncChatStore>;
}

const AT = "2026-03-01T10:00:00.000Z";
const LATER = "2026-03-01T10:05:00.000Z";

/** Fresh user ids for one test, so tests sharing a store never see each other's rooms. */
let nextUser = 1000;
const users = (n: number) => Array.from({ length: n }, () => String(nextUser++));

const roles = (room: StoredRoom | null | undefined) =>
  Object.fromEntries([...(room?.members.values() ?? [])].map((m) => [m.userId, m.role]));

export function chatStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`the ${name} chat store`, () => {
    let opened: OpenedStore;
    let s: AsyncChatStore;
    before(async () => {
      opened = await open();
      s = opened.store;
    });
    after(() => opened?.dispose());

    const group = async (n: number) => {
      const ids = users(n);
      const room = await s.createGroup({ name: "Ops", ownerId: ids[0]!, memberIds: ids, at: AT });
      return { room, ids };
    };
    const send = (roomId: string, senderId: string, body: string, clientId: string | null = null) =>
      s.sendMessage({ roomId, senderId, body, clientId, replyToId: null, at: LATER });

    test("a direct room is one per pair, whichever of the two opens it", async () => {
      const [a, b] = users(2);
      const first = await s.openDirect(b!, a!, AT);
      const again = await s.openDirect(a!, b!, LATER);
      assert.equal(first.created, true);
      assert.equal(again.created, false);
      assert.equal(again.room.id, first.room.id);
      assert.equal(again.room.type, "direct");
      assert.deepEqual(roles(again.room), { [a!]: "member", [b!]: "member" });
      assert.deepEqual([...(await s.roomIdsOf(a!))], [first.room.id]);
    });

    test("a new group has its owner and members in joining order", async () => {
      const { room, ids } = await group(3);
      assert.equal(room.name, "Ops");
      assert.deepEqual(roles(room), { [ids[0]!]: "owner", [ids[1]!]: "member", [ids[2]!]: "member" });
      const order = [...room.members.values()].sort((x, y) => x.joinOrder - y.joinOrder).map((m) => m.userId);
      assert.deepEqual(order, ids);
      assert.equal((await s.room(room.id))?.name, "Ops");
      assert.deepEqual(
        (await s.roomsOf(ids[1]!)).map((r) => r.id),
        [room.id],
      );
    });

    test("sends number seq and rev from 1 and count the sender's own unread", async () => {
      const { room, ids } = await group(2);
      for (const body of ["one", "two", "three"]) await send(room.id, ids[0]!, body);
      const state = await s.room(room.id);
      assert.equal(state?.lastSeq, 3);
      assert.equal(state?.rev, 3);
      assert.equal(state?.lastMessage?.body, "three");
      assert.equal(state?.lastActivityAt, LATER);
      assert.equal(state?.members.get(ids[0]!)?.ownAfterRead, 3);
      const { messages } = await s.history(room.id, { limit: 10 });
      assert.deepEqual(
        messages.map((m) => [m.seq, m.rev, m.body]),
        [
          [1, 1, "one"],
          [2, 2, "two"],
          [3, 3, "three"],
        ],
      );
    });

    test("a retry with the same client id returns the stored message and stores nothing", async () => {
      const { room, ids } = await group(2);
      const first = await send(room.id, ids[0]!, "hello", "c-1");
      const retry = await send(room.id, ids[0]!, "hello again", "c-1");
      assert.equal(first.created, true);
      assert.equal(retry.created, false);
      assert.deepEqual(retry.message, first.message);
      assert.equal((await s.room(room.id))?.lastSeq, 1);
      // the same client id from another sender is another message
      assert.equal((await send(room.id, ids[1]!, "mine", "c-1")).created, true);
      const other = await group(1);
      await s.addMembers(other.room.id, [ids[0]!], AT);
      await assert.rejects(send(other.room.id, ids[0]!, "elsewhere", "c-1"), { code: "CONFLICT" });
    });

    test("sending to an unknown or closed room is NOT_FOUND; a reply must be in the same room", async () => {
      const { room, ids } = await group(1);
      const other = await group(1);
      const elsewhere = await send(other.room.id, other.ids[0]!, "there");
      await assert.rejects(
        s.sendMessage({
          roomId: room.id,
          senderId: ids[0]!,
          body: "re",
          clientId: null,
          replyToId: elsewhere.message.id,
          at: LATER,
        }),
        { code: "BAD_REQUEST" },
      );
      const target = await send(room.id, ids[0]!, "here");
      const reply = await s.sendMessage({
        roomId: room.id,
        senderId: ids[0]!,
        body: "re",
        clientId: null,
        replyToId: target.message.id,
        at: LATER,
      });
      assert.equal(reply.message.replyToId, target.message.id);
      await assert.rejects(send("987654", ids[0]!, "x"), { code: "NOT_FOUND" });
      // ids that can't name a row at all are answered the same way, not as a database error
      await assert.rejects(send("not-a-room", ids[0]!, "x"), { code: "NOT_FOUND" });
      await assert.rejects(
        s.sendMessage({
          roomId: room.id,
          senderId: ids[0]!,
          body: "re",
          clientId: null,
          replyToId: "x1",
          at: LATER,
        }),
        { code: "BAD_REQUEST", message: "replyToId must be a message of the same room." },
      );
      assert.equal((await s.room(room.id))?.lastSeq, 2);
      await s.removeMember(room.id, ids[0]!);
      await assert.rejects(send(room.id, ids[0]!, "x"), { code: "NOT_FOUND" });
    });

    test("a send that requires membership is NOT_FOUND for a non-member, even with a clientId already stored", async () => {
      const { room, ids } = await group(2);
      const [outsider] = users(1);
      const asMember = (senderId: string, clientId: string) =>
        s.sendMessage({
          roomId: room.id,
          senderId,
          body: "hi",
          clientId,
          replyToId: null,
          at: LATER,
          requireMember: true,
        });
      const first = await asMember(ids[1]!, "m-1");
      assert.equal(first.created, true);
      await assert.rejects(asMember(outsider!, "m-2"), { code: "NOT_FOUND" });
      await assert.rejects(
        asMember(ids[0]!, "m-3").then(() => asMember("no-such-user", "m-3")),
        {
          code: "NOT_FOUND",
        },
      );
      // removed: the retry of its own earlier send is refused too, as the room is no longer theirs
      await s.removeMember(room.id, ids[1]!);
      await assert.rejects(asMember(ids[1]!, "m-1"), { code: "NOT_FOUND" });
      assert.equal((await s.room(room.id))?.lastSeq, 2);
      // without the flag (posts as the TimeWise app) nobody's membership is asked for
      assert.equal((await send(room.id, outsider!, "as the app")).created, true);
    });

    test("an edit and a deletion each take the room's next rev; a deleted message stays deleted", async () => {
      const { room, ids } = await group(1);
      const { message } = await send(room.id, ids[0]!, "draft");
      const edited = await s.editMessage(message.id, "final", LATER);
      assert.deepEqual([edited.body, edited.editedAt, edited.rev, edited.seq], ["final", LATER, 2, 1]);
      assert.equal((await s.room(room.id))?.lastMessage?.body, "final");
      const deleted = await s.deleteMessage(message.id, LATER);
      assert.equal(deleted.changed, true);
      assert.deepEqual([deleted.message.body, deleted.message.deleted, deleted.message.rev], ["", true, 3]);
      const again = await s.deleteMessage(message.id, LATER);
      assert.equal(again.changed, false);
      assert.equal((await s.room(room.id))?.rev, 3);
      await assert.rejects(s.editMessage(message.id, "back", LATER), { code: "BAD_REQUEST" });
      await assert.rejects(s.editMessage("999999", "x", LATER), { code: "NOT_FOUND" });
      assert.equal((await s.message(message.id))?.deleted, true);
    });

    test("a message of a closed room, or of no room, can't be edited, deleted or reacted to", async () => {
      const { room, ids } = await group(1);
      const { message } = await send(room.id, ids[0]!, "last words");
      await s.removeMember(room.id, ids[0]!); // the last one out closes the room
      assert.equal(await s.room(room.id), undefined, "the room is closed");
      for (const id of [message.id, "999999"]) {
        await assert.rejects(s.editMessage(id, "changed", LATER), { code: "NOT_FOUND" });
        await assert.rejects(s.deleteMessage(id, LATER), { code: "NOT_FOUND" });
        await assert.rejects(s.react(id, ids[0]!, "👍", true), { code: "NOT_FOUND" });
      }
    });

    test("reactions keep their order, change nothing when repeated, and are capped per message", async () => {
      const { room, ids } = await group(2);
      const { message } = await send(room.id, ids[0]!, "react to me");
      await s.react(message.id, ids[1]!, "👍", true);
      const both = await s.react(message.id, ids[0]!, "👍", true);
      assert.deepEqual(both.message.reactions, { "👍": [ids[1], ids[0]] });
      const repeat = await s.react(message.id, ids[0]!, "👍", true);
      assert.equal(repeat.changed, false);
      assert.equal(repeat.message.rev, both.message.rev);
      const proto = await s.react(message.id, ids[0]!, "__proto__", true);
      assert.deepEqual(Object.keys(proto.message.reactions), ["👍", "__proto__"]);
      const off = await s.react(message.id, ids[1]!, "👍", false);
      assert.deepEqual(off.message.reactions["👍"], [ids[0]]);
      for (let i = 2; i < LIMITS.distinctEmojiPerMessage; i++)
        await s.react(message.id, ids[0]!, `e${i}`, true);
      await assert.rejects(s.react(message.id, ids[0]!, "one-too-many", true), { code: "BAD_REQUEST" });
      await s.deleteMessage(message.id, LATER);
      assert.deepEqual((await s.message(message.id))?.reactions, {});
      await assert.rejects(s.react(message.id, ids[0]!, "👍", true), { code: "BAD_REQUEST" });
    });

    test("changes since a rev come in rev order with a cursor to continue from", async () => {
      const { room, ids } = await group(1);
      const sent = [];
      for (const body of ["a", "b", "c"]) sent.push((await send(room.id, ids[0]!, body)).message);
      await s.editMessage(sent[0]!.id, "a2", LATER); // rev 4
      const page = await s.changes(room.id, 1, 2);
      assert.deepEqual(
        page.messages.map((m) => [m.body, m.rev]),
        [
          ["b", 2],
          ["c", 3],
        ],
      );
      assert.deepEqual([page.rev, page.hasMore], [3, true]);
      const rest = await s.changes(room.id, page.rev, 2);
      assert.deepEqual(
        rest.messages.map((m) => [m.body, m.rev]),
        [["a2", 4]],
      );
      assert.deepEqual([rest.rev, rest.hasMore], [4, false]);
      assert.deepEqual(await s.changes(room.id, 4, 10), { messages: [], rev: 4, hasMore: false });
    });

    test("the changes cursor matches the rows it comes with, also when another node wrote them", async () => {
      const { room, ids } = await group(1);
      const other = await opened.another();
      for (const body of ["a", "b", "c"]) {
        await other.sendMessage({
          roomId: room.id,
          senderId: ids[0]!,
          body,
          clientId: null,
          replyToId: null,
          at: LATER,
        });
      }
      // more to come: the cursor is the last row's rev
      const page = await s.changes(room.id, 0, 2);
      assert.deepEqual(
        page.messages.map((m) => m.rev),
        [1, 2],
      );
      assert.deepEqual([page.rev, page.hasMore], [2, true]);
      // nothing left: the cursor is the room's rev as of the same read, never behind its rows
      const rest = await s.changes(room.id, page.rev, 10);
      assert.deepEqual(
        rest.messages.map((m) => [m.body, m.rev]),
        [["c", 3]],
      );
      assert.deepEqual([rest.rev, rest.hasMore], [3, false]);
      const all = await s.changes(room.id, 0, 10);
      assert.deepEqual([all.messages.length, all.rev, all.hasMore], [3, 3, false]);
    });

    test("history pages back and forth by seq", async () => {
      const { room, ids } = await group(1);
      for (let i = 1; i <= 5; i++) await send(room.id, ids[0]!, `m${i}`);
      const bodies = (r: { messages: { body: string }[]; hasMore: boolean }) => [
        r.messages.map((m) => m.body),
        r.hasMore,
      ];
      assert.deepEqual(bodies(await s.history(room.id, { limit: 2 })), [["m4", "m5"], true]);
      assert.deepEqual(bodies(await s.history(room.id, { beforeSeq: 4, limit: 2 })), [["m2", "m3"], true]);
      assert.deepEqual(bodies(await s.history(room.id, { beforeSeq: 3, limit: 2 })), [["m1", "m2"], false]);
      assert.deepEqual(bodies(await s.history(room.id, { afterSeq: 3, limit: 5 })), [["m4", "m5"], false]);
    });

    test("a read marker only moves forward, stops at the last message, and recounts own messages", async () => {
      const { room, ids } = await group(2);
      const [me, other] = [ids[0]!, ids[1]!];
      await send(room.id, other, "1");
      await send(room.id, me, "2");
      await send(room.id, other, "3");
      await send(room.id, me, "4");
      assert.equal(await s.markRead(room.id, me, 2), 2);
      assert.equal((await s.room(room.id))?.members.get(me)?.ownAfterRead, 1);
      assert.equal(await s.markRead(room.id, me, 1), 2);
      assert.equal(await s.markRead(room.id, me, 99), 4);
      const member = (await s.room(room.id))?.members.get(me);
      assert.deepEqual([member?.readSeq, member?.ownAfterRead], [4, 0]);
      await assert.rejects(s.markRead(room.id, "not-a-member", 1), { code: "NOT_FOUND" });
    });

    test("members join with history read, owners hand on when leaving, the last one out closes", async () => {
      const { room, ids } = await group(1);
      const [owner] = ids;
      const [admin, plain] = users(2);
      await send(room.id, owner!, "before they came");
      const joined = await s.addMembers(room.id, [owner!, plain!, admin!], LATER);
      assert.deepEqual(joined.added, [plain, admin]);
      assert.equal(joined.room.members.get(plain!)?.readSeq, 1);
      const promoted = await s.setRole(room.id, admin!, "admin");
      assert.equal(promoted.members.get(admin!)?.role, "admin");
      // the admin takes over although the plain member joined first
      const left = await s.removeMember(room.id, owner!);
      assert.equal(left.closed, false);
      assert.deepEqual(roles(left.room), { [admin!]: "owner", [plain!]: "member" });
      await assert.rejects(s.removeMember(room.id, owner!), { code: "NOT_FOUND" });
      await s.removeMember(room.id, admin!);
      assert.equal((await s.room(room.id))?.members.get(plain!)?.role, "owner");
      const last = await s.removeMember(room.id, plain!);
      assert.deepEqual(last, { room: null, closed: true });
      assert.equal(await s.room(room.id), undefined);
      assert.deepEqual(await s.roomsOf(plain!), []);
      await assert.rejects(s.rename(room.id, "gone"), { code: "NOT_FOUND" });
    });

    test("a membership read gives the role in an open room, and nothing for others or closed rooms", async () => {
      const { room, ids } = await group(2);
      const [stranger] = users(1);
      assert.equal(await s.membership(room.id, ids[0]!), "owner");
      assert.equal(await s.membership(room.id, ids[1]!), "member");
      assert.equal(await s.membership(room.id, stranger!), undefined);
      assert.equal(await s.membership("no-such-room", ids[0]!), undefined);
      await s.setRole(room.id, ids[1]!, "admin");
      assert.equal(await s.membership(room.id, ids[1]!), "admin");
      await s.removeMember(room.id, ids[1]!);
      assert.equal(await s.membership(room.id, ids[1]!), undefined);
      await s.removeMember(room.id, ids[0]!);
      assert.equal(await s.membership(room.id, ids[0]!), undefined);
    });

    test("a renamed room keeps its name", async () => {
      const { room } = await group(1);
      assert.equal((await s.rename(room.id, "Night shift")).name, "Night shift");
      assert.equal((await s.room(room.id))?.name, "Night shift");
    });

    test("a mirrored group is created, left alone when synced again, updated, and reopened", async () => {
      const [a, b, c] = users(3);
      const key = `team:${a}`;
      const sync = (memberIds: string[], extra: { ownerId?: string; adminIds?: string[] } = {}) =>
        s.syncGroup({
          externalKey: key,
          name: "Team",
          memberIds,
          ownerId: extra.ownerId ?? null,
          adminIds: extra.adminIds ?? null,
          at: AT,
        });
      const made = await sync([a!, b!]);
      assert.deepEqual([made.created, made.changed, made.added, made.removed], [true, true, [a, b], []]);
      assert.deepEqual(roles(made.room), { [a!]: "owner", [b!]: "member" });
      const same = await sync([a!, b!]);
      assert.deepEqual([same.created, same.changed, same.roomId], [false, false, made.roomId]);
      const moved = await sync([b!, c!], { adminIds: [c!] });
      assert.deepEqual([moved.added, moved.removed], [[c], [a]]);
      // the old owner left: the first admin takes over
      assert.deepEqual(roles(moved.room), { [b!]: "member", [c!]: "owner" });
      assert.equal((await s.roomByExternalKey(key))?.id, made.roomId);
      await s.removeMember(made.roomId, b!);
      await s.removeMember(made.roomId, c!);
      assert.equal(await s.roomByExternalKey(key), undefined);
      const reopened = await sync([a!]);
      assert.deepEqual([reopened.roomId, reopened.created, reopened.changed], [made.roomId, false, true]);
      assert.deepEqual(roles(reopened.room), { [a!]: "owner" });
    });

    test("a record's room keeps its kind, id, title and link; a new link is a change; a team is no record", async () => {
      const [a] = users(1);
      const key = recordKey("timesheet", `w49-${a}`);
      const sync = (name: string, recordUrl: string) =>
        s.syncGroup({
          externalKey: key,
          name,
          memberIds: [a!],
          ownerId: null,
          adminIds: [],
          recordUrl,
          at: AT,
        });
      const made = await sync("Week 49", "https://tw.example/t/1");
      const record = { kind: "timesheet", id: `w49-${a}`, title: "Week 49", url: "https://tw.example/t/1" };
      assert.deepEqual(made.room.record, record);
      assert.deepEqual((await s.room(made.roomId))?.record, record);
      assert.deepEqual((await s.roomByExternalKey(key))?.record, record);
      assert.equal((await sync("Week 49", "https://tw.example/t/1")).changed, false);
      const moved = await sync("Week 49 (Bob)", "https://tw.example/t/2");
      assert.equal(moved.changed, true);
      assert.deepEqual(moved.room.record, {
        ...record,
        title: "Week 49 (Bob)",
        url: "https://tw.example/t/2",
      });
      assert.deepEqual(
        (await s.roomsOf(a!)).map((r) => r.record?.url),
        ["https://tw.example/t/2"],
      );
      const team = await s.syncGroup({
        externalKey: `team:${a}`,
        name: "Team",
        memberIds: [a!],
        ownerId: null,
        adminIds: null,
        at: AT,
      });
      assert.equal(team.room.record, null);
    });

    test("names and last-seen times are remembered; revocations never move back", async () => {
      const [a, b] = users(2);
      assert.equal(await s.userName(a!), `User ${a}`);
      await s.setLastSeen(b!, AT);
      assert.equal(await s.userName(b!), `User ${b}`);
      assert.equal(await s.lastSeenAt(b!), AT);
      await s.rememberUsers([
        { id: a!, name: "Ann" },
        { id: b!, name: "Bob" },
      ]);
      assert.equal(await s.userName(a!), "Ann");
      assert.equal(await s.userName(b!), "Bob");
      const [unknown] = users(1);
      assert.deepEqual(
        [...(await s.userNames([a!, unknown!, b!]))],
        [
          [a, "Ann"],
          [unknown, `User ${unknown}`],
          [b, "Bob"],
        ],
      );
      assert.equal((await s.userNames([])).size, 0);
      assert.equal(await s.lastSeenAt(b!), AT);
      assert.equal(await s.lastSeenAt(a!), null);
      assert.equal(await s.tokensRevokedBefore(a!), null);
      assert.equal(await s.revokeTokens(a!, 2000), 2000);
      assert.equal(await s.revokeTokens(a!, 1000), 2000);
      assert.equal(await s.tokensRevokedBefore(a!), 2000);
    });

    test("a server secret is made once per name and read back the same, also when asked at once", async () => {
      const [first, ...racing] = await Promise.all([1, 2, 3, 4].map(() => s.serverSecret("contract-a")));
      assert.match(first!, /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(racing, [first, first, first]);
      assert.equal(await s.serverSecret("contract-a"), first);
      assert.notEqual(await s.serverSecret("contract-b"), first);
    });

    test("search ignores accents and case, needs every word, matches the last as a prefix", async () => {
      const { room, ids } = await group(1);
      const other = await group(1);
      const cafe = (await send(room.id, ids[0]!, "Rendez-vous au Café Crème demain")).message;
      const gone = (await send(room.id, ids[0]!, "café supprimé")).message;
      await send(other.room.id, other.ids[0]!, "café ailleurs");
      await s.deleteMessage(gone.id, LATER);
      const find = (q: string) => s.search([room.id], q, 10).then((found) => found.map((m) => m.id));
      // the SQLite store indexes shortly after the commit
      await until(async () => (await find("cafe")).length > 0, 5000, "the index to catch up");
      assert.deepEqual(await find("CAFE creme"), [cafe.id]);
      assert.deepEqual(await find("café cr"), [cafe.id]);
      assert.deepEqual(await find("cafe absent"), []);
      assert.deepEqual(await find("dem"), [cafe.id]);
      // punctuation and quotes are words, never a syntax error
      assert.deepEqual(await find(`"' \\ ) ( * :`), []);
      assert.deepEqual(await find(`caf'é`), []);
      assert.deepEqual(await s.search([], "cafe", 10), []);
    });

    test("mentions are stored with a message, replaced by an edit and cleared by a deletion", async () => {
      const { room, ids } = await group(3);
      const [a, b, c] = ids as [string, string, string];
      const { message } = await s.sendMessage({
        roomId: room.id,
        senderId: a,
        body: "hi",
        clientId: null,
        replyToId: null,
        mentions: { userIds: [c, b], all: true },
        at: LATER,
      });
      assert.deepEqual([message.mentions, message.mentionsAll], [[c, b], true]);
      assert.deepEqual(await s.message(message.id), message);
      assert.deepEqual((await s.history(room.id, { limit: 10 })).messages, [message]);
      const edited = await s.editMessage(message.id, "hi again", LATER, { userIds: [b], all: false });
      assert.deepEqual([edited.mentions, edited.mentionsAll], [[b], false]);
      assert.deepEqual((await s.changes(room.id, 0, 10)).messages, [edited]);
      const plain = await s.editMessage(message.id, "no one", LATER);
      assert.deepEqual([plain.mentions, plain.mentionsAll], [[], false]);
      await s.editMessage(message.id, "back", LATER, { userIds: [c], all: true });
      const { message: deleted } = await s.deleteMessage(message.id, LATER);
      assert.deepEqual([deleted.mentions, deleted.mentionsAll], [[], false]);
      assert.deepEqual(await s.message(message.id), deleted);
    });

    test("a member's view counts unread mentions of them or everyone, after their marker, not their own", async () => {
      const { room, ids } = await group(3);
      const other = await group(1);
      const [a, b, c] = ids as [string, string, string];
      const post = (senderId: string, userIds: string[], all: boolean) =>
        s.sendMessage({
          roomId: room.id,
          senderId,
          body: "x",
          clientId: null,
          replyToId: null,
          mentions: { userIds, all },
          at: LATER,
        });
      await post(a, [b], false);
      await post(a, [], false);
      await post(a, [], true);
      await post(b, [b, c], true);
      const views = (userId: string) => s.memberViews(userId, [room.id, other.room.id]);
      assert.deepEqual(await views(b), new Map([[room.id, { notify: "all", mentions: 2 }]]));
      assert.deepEqual(await views(c), new Map([[room.id, { notify: "all", mentions: 2 }]]));
      assert.deepEqual(await views(a), new Map([[room.id, { notify: "all", mentions: 1 }]]));
      await s.markRead(room.id, b, 1);
      assert.equal((await views(b)).get(room.id)?.mentions, 1);
      assert.deepEqual(await s.memberViews(b, []), new Map());
      assert.deepEqual(await s.memberViews(b, ["987654321", "x"]), new Map());
    });

    test("notify is per member and room; a non-member or a closed room is NOT_FOUND", async () => {
      const { room, ids } = await group(2);
      const [a, b] = ids as [string, string];
      await s.setNotify(room.id, a, "none");
      assert.equal((await s.memberViews(a, [room.id])).get(room.id)?.notify, "none");
      assert.equal((await s.memberViews(b, [room.id])).get(room.id)?.notify, "all");
      await assert.rejects(s.setNotify(room.id, users(1)[0]!, "none"), { code: "NOT_FOUND" });
      await assert.rejects(s.setNotify("987654321", a, "none"), { code: "NOT_FOUND" });
      await s.removeMember(room.id, b);
      await s.removeMember(room.id, a);
      await assert.rejects(s.setNotify(room.id, a, "all"), { code: "NOT_FOUND" });
    });

    test("user prefs keep only what was set, field by field", async () => {
      const [u, v] = users(2) as [string, string];
      assert.deepEqual(await s.userPrefs(u), {});
      assert.deepEqual(await s.setUserPrefs(u, { emailDelayMin: 30 }), { emailDelayMin: 30 });
      assert.deepEqual(await s.setUserPrefs(u, { push: false, email: "off" }), {
        email: "off",
        emailDelayMin: 30,
        push: false,
      });
      assert.deepEqual(await s.setUserPrefs(u, { push: true }), {
        email: "off",
        emailDelayMin: 30,
        push: true,
      });
      assert.deepEqual(await s.userPrefs(u), { email: "off", emailDelayMin: 30, push: true });
      assert.deepEqual(await s.userPrefs(v), {});
    });
  });
}
