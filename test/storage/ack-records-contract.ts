/**
 * (v2.4) The acknowledgement records' contract at store level, run against both stores like
 * file-records-contract.ts: a notice's recipients start pending, an acknowledgement keeps its
 * first time (idempotent, never withdrawn), non-recipients are told apart, and a second node
 * sees what the first wrote.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AsyncChatStore } from "../../src/storage/async-chat-store.js";
import type { OpenedStore } from "./chat-store-contract.js";

const AT = "2026-03-01T10:00:00.000Z";
const ACK1 = "2026-03-01T10:05:00.000Z";
const ACK2 = "2026-03-01T10:09:00.000Z";

export function ackRecordsContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`the ${name} store's acknowledgement records`, () => {
    let opened: OpenedStore;
    let s: AsyncChatStore;
    before(async () => {
      opened = await open();
      s = opened.store;
    });
    after(() => opened?.dispose());

    const notice = async () => {
      const room = await s.createGroup({
        name: "Site",
        ownerId: "a1",
        memberIds: ["a1", "b1", "c1"],
        at: AT,
      });
      const { message } = await s.sendMessage({
        roomId: room.id,
        senderId: "a1",
        body: "Safety briefing",
        clientId: null,
        replyToId: null,
        at: AT,
      });
      await s.requestAcks(message.id, ["b1", "c1"]);
      return message.id;
    };

    test("recipients start pending; a message that is no notice has none", async () => {
      const id = await notice();
      const acks = await s.acksOf([id, "987654321"]);
      assert.deepEqual(
        [...acks.entries()],
        [
          [
            id,
            [
              { userId: "b1", at: null },
              { userId: "c1", at: null },
            ],
          ],
        ],
      );
      assert.equal((await s.acksOf([])).size, 0);
    });

    test("an acknowledgement keeps its first time; the sender and strangers are no recipients", async () => {
      const id = await notice();
      assert.deepEqual(await s.acknowledge(id, "b1", ACK1), { at: ACK1, changed: true });
      assert.deepEqual(await s.acknowledge(id, "b1", ACK2), { at: ACK1, changed: false });
      assert.equal(await s.acknowledge(id, "a1", ACK1), undefined);
      assert.equal(await s.acknowledge(id, "zz", ACK1), undefined);
      assert.equal(await s.acknowledge("987654321", "b1", ACK1), undefined);
      // asking again for the same recipients changes nothing
      await s.requestAcks(id, ["b1", "c1"]);
      assert.deepEqual((await s.acksOf([id])).get(id), [
        { userId: "b1", at: ACK1 },
        { userId: "c1", at: null },
      ]);
    });

    test("a second node sees an acknowledgement the first wrote, and cannot make it later", async () => {
      const id = await notice();
      const other = await opened.another();
      assert.deepEqual(await s.acknowledge(id, "c1", ACK1), { at: ACK1, changed: true });
      assert.deepEqual(await other.acknowledge(id, "c1", ACK2), { at: ACK1, changed: false });
      assert.deepEqual((await other.acksOf([id])).get(id), [
        { userId: "b1", at: null },
        { userId: "c1", at: ACK1 },
      ]);
    });
  });
}
