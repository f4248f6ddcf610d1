/**
 * (v2.4) Working hours, quiet hours and urgent messages at store level, run against both stores
 * like ack-records-contract.ts: a schedule and quiet hours are kept apart (setting one leaves the
 * other), null removes each, and the urgent list is kept once per message, oldest first, and
 * seen by a second node.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { QuietHours, WorkSchedule } from "../../src/protocol/index.js";
import type { AsyncChatStore } from "../../src/storage/async-chat-store.js";
import type { OpenedStore } from "./chat-store-contract.js";

const AT = "2026-03-01T10:00:00.000Z";
const WEEKLY: WorkSchedule = { timeZone: "Europe/Lisbon", weekly: { mon: [["08:00", "16:30"]], sat: [] } };
const SHIFTS: WorkSchedule = {
  timeZone: "America/Toronto",
  shifts: [{ start: "2026-03-02T13:00:00Z", end: "2026-03-02T21:00:00Z" }],
};
const QUIET: QuietHours = { timeZone: "Europe/Lisbon", from: "22:00", to: "07:00" };

export function hoursContract(name: string, open: () => Promise<OpenedStore>): void {
  describe(`the ${name} store's working hours`, () => {
    let opened: OpenedStore;
    let s: AsyncChatStore;
    before(async () => {
      opened = await open();
      s = opened.store;
    });
    after(() => opened?.dispose());

    test("a schedule and quiet hours are kept apart, each replaced and removed on its own", async () => {
      assert.deepEqual([...(await s.hoursOf(["h1", "h2"])).entries()], []);
      await s.setSchedule("h1", WEEKLY, AT);
      await s.setQuietHours("h2", QUIET, AT);
      assert.deepEqual([...(await s.hoursOf(["h1", "h2", "h3"])).entries()].sort(), [
        ["h1", { schedule: WEEKLY, quietHours: null }],
        ["h2", { schedule: null, quietHours: QUIET }],
      ]);
      await s.setQuietHours("h1", QUIET, AT);
      await s.setSchedule("h1", SHIFTS, AT);
      assert.deepEqual((await s.hoursOf(["h1"])).get("h1"), { schedule: SHIFTS, quietHours: QUIET });
      await s.setSchedule("h1", null, AT);
      assert.deepEqual((await s.hoursOf(["h1"])).get("h1"), { schedule: null, quietHours: QUIET });
      await s.setQuietHours("h1", null, AT);
      await s.setQuietHours("h2", null, AT);
      assert.deepEqual([...(await s.hoursOf(["h1", "h2"])).entries()], [], "no row is left with neither");
      // removing what was never set is fine and leaves nothing behind
      await s.setSchedule("h4", null, AT);
      assert.equal((await s.hoursOf(["h4"])).size, 0);
      assert.equal((await s.hoursOf([])).size, 0);
    });

    test("urgent messages are listed once each, oldest first, from `since`, on any node", async () => {
      const room = await s.createGroup({ name: "Site", ownerId: "u1", memberIds: ["u1", "u2"], at: AT });
      const send = async (body: string) =>
        (
          await s.sendMessage({
            roomId: room.id,
            senderId: "u1",
            body,
            clientId: null,
            replyToId: null,
            at: AT,
          })
        ).message.id;
      const first = await send("Gas leak: leave the building");
      const second = await send("All clear");
      await s.recordUrgent({
        messageId: second,
        roomId: room.id,
        senderId: "u1",
        at: "2026-03-01T11:00:00.000Z",
      });
      await s.recordUrgent({
        messageId: first,
        roomId: room.id,
        senderId: "u1",
        at: "2026-03-01T10:30:00.000Z",
      });
      await s.recordUrgent({
        messageId: first,
        roomId: room.id,
        senderId: "u1",
        at: "2026-03-01T12:00:00.000Z",
      });
      const other = await opened.another();
      assert.deepEqual(await other.urgentMessages({ limit: 10 }), [
        { messageId: first, roomId: room.id, senderId: "u1", at: "2026-03-01T10:30:00.000Z" },
        { messageId: second, roomId: room.id, senderId: "u1", at: "2026-03-01T11:00:00.000Z" },
      ]);
      assert.deepEqual(
        (await s.urgentMessages({ since: "2026-03-01T11:00:00.000Z", limit: 10 })).map((u) => u.messageId),
        [second],
      );
      assert.deepEqual(
        (await s.urgentMessages({ limit: 1 })).map((u) => u.messageId),
        [first],
      );
    });
  });
}
