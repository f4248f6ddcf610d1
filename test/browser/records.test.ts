/**
 * A conversation on a TimeWise record in a real browser: the room's header shows the record's
 * title and a link back to the record's page (a new tab, without a handle on the chat), no
 * settings to rename or leave it, the chat list's filter, and a member the PHP app takes out
 * seeing the room go at once.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import {
  newPerson,
  roomButton,
  say,
  screenshot,
  signInWithPassword,
  useBrowser,
} from "../support/browser.js";
import { startServer } from "../support/harness.js";
import { attachRecord, RECORDS_KEY } from "../support/records.js";

const { skip, browser } = await useBrowser();

test("a record's room links back to the record, has no group settings, and the list filters it", {
  skip,
}, async (t) => {
  const server = await startServer({ env: { SERVICE_API_KEY: RECORDS_KEY } });
  t.after(() => server.close());
  // the record's page in "the PHP app", on its own origin
  const timewise = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<!doctype html><title>Timesheet 42</title><h1>Timesheet 42</h1>");
  });
  await new Promise<void>((resolve) => timewise.listen(0, "127.0.0.1", () => resolve()));
  t.after(() => new Promise<void>((resolve) => timewise.close(() => resolve())));
  const recordUrl = `http://127.0.0.1:${(timewise.address() as AddressInfo).port}/timesheets/42?week=49`;

  const alice = await newPerson(t, browser(), server, "Alice Smith");
  const bob = await newPerson(t, browser(), server, "Bob Jones");
  await signInWithPassword(alice, server);
  await signInWithPassword(bob, server);
  await attachRecord(server, "timesheet", "42", {
    title: "Timesheet week 49",
    url: recordUrl,
    memberIds: [alice.user.id, bob.user.id],
  });

  // a plain group beside it, to filter against
  await alice.ui.getByRole("button", { name: "New group" }).click();
  await alice.ui.getByLabel("Group name").fill("Coffee club");
  await alice.ui.getByRole("button", { name: "Create group" }).click();
  await alice.ui.getByRole("heading", { name: "Coffee club" }).waitFor();
  assert.equal(await alice.ui.getByRole("button", { name: "Group settings" }).count(), 1);

  await roomButton(alice.ui, "Timesheet week 49").click();
  await alice.ui.getByRole("heading", { name: "Timesheet week 49" }).waitFor();
  const link = alice.ui.getByRole("link", { name: "Open Timesheet week 49 in TimeWise" });
  assert.equal(await link.getAttribute("href"), recordUrl);
  assert.equal(await link.getAttribute("target"), "_blank");
  assert.deepEqual((await link.getAttribute("rel"))?.split(" ").sort(), ["noopener", "noreferrer"]);
  assert.equal(await alice.ui.getByRole("button", { name: "Group settings" }).count(), 0);
  await say(alice.ui, "Tuesday looks long: 11 hours?");
  await roomButton(bob.ui, "Timesheet week 49").click();
  await bob.ui.locator(".msg-body", { hasText: "Tuesday looks long: 11 hours?" }).waitFor();
  await screenshot(alice.page, "desktop-record-chat");

  // the link opens the record in a new tab that can't reach back into the chat
  const [tab] = await Promise.all([alice.context.waitForEvent("page"), link.click()]);
  await tab.waitForLoadState();
  assert.equal(tab.url(), recordUrl);
  assert.equal(await tab.evaluate<boolean>("window.opener === null"), true);
  await tab.close();

  // the list's filter
  const listed = () =>
    alice.ui.getByRole("list", { name: "Your chats" }).locator(".room-name").allTextContents();
  assert.deepEqual((await listed()).sort(), ["Coffee club", "Timesheet week 49"]);
  await alice.ui.getByRole("button", { name: "On records" }).click();
  assert.deepEqual(await listed(), ["Timesheet week 49"]);
  await alice.ui.getByRole("button", { name: "Other chats" }).click();
  assert.deepEqual(await listed(), ["Coffee club"]);
  await alice.ui.getByRole("button", { name: "All", exact: true }).click();
  assert.deepEqual((await listed()).sort(), ["Coffee club", "Timesheet week 49"]);

  // the PHP app takes Bob out: his open room goes, back to the list, and the room is not in it
  await attachRecord(server, "timesheet", "42", {
    title: "Timesheet week 49",
    url: recordUrl,
    memberIds: [alice.user.id],
  });
  await bob.ui.getByText("Pick a chat from the list, or start a new one.").waitFor();
  await bob.ui.getByText("No chats yet. Start one with “New chat”.").waitFor();
  assert.deepEqual([alice.dialogs, bob.dialogs, alice.cspErrors, bob.cspErrors], [[], [], [], []]);
});
