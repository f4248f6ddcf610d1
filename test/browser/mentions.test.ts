/**
 * Mentions in a real browser: completing `@` in the composer (members of the room only, by
 * keyboard), mentions marked in messages (mine stronger), the mention badge in the chat list and
 * the unread count in the tab title.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { composer, newPerson, roomButton, signInWithPassword, useBrowser } from "../support/browser.js";
import { ok, startServer, until } from "../support/harness.js";

const { skip, browser } = await useBrowser();

test("@ completes members of this room only, marks mentions, and counts them in the list and title", {
  skip,
}, async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const alice = await newPerson(t, browser(), server, "Alice Mention");
  const bob = await server.addUser("Bob Mention");
  const carl = await server.addUser("Carl Mention");
  await server.addUser("Dave Mention"); // matches the query but is not in the group
  const b = await server.connect(bob);
  const { room } = await ok(b, "room:create", { name: "Planning", memberIds: [alice.user.id, carl.id] });
  await signInWithPassword(alice, server);
  const ui = alice.ui;
  await roomButton(ui, "Planning").click();

  const box = composer(ui);
  await box.pressSequentially("@ment");
  const list = ui.getByRole("listbox", { name: "People to mention" });
  await list.waitFor();
  assert.deepEqual(await list.getByRole("option").allTextContents(), [
    `Bob Mention @${bob.login}`,
    `Carl Mention @${carl.login}`,
  ]);
  assert.equal(await box.getAttribute("aria-activedescendant"), "mention-option-0");
  await box.press("ArrowDown");
  assert.equal(await box.getAttribute("aria-activedescendant"), "mention-option-1");
  assert.equal(
    await list.getByRole("option", { selected: true }).textContent(),
    `Carl Mention @${carl.login}`,
  );
  await box.press("Enter");
  await list.waitFor({ state: "detached" });
  assert.equal(await box.inputValue(), `@${carl.login} `);
  await box.pressSequentially("see @bo");
  await list.waitFor();
  await box.press("Escape");
  await list.waitFor({ state: "detached" });
  assert.equal(await box.inputValue(), `@${carl.login} see @bo`, "Escape closes the list, the text stays");

  // Bob mentions Alice and Carl: Alice's own mention is the stronger mark, and the message is marked
  await ok(b, "message:send", {
    roomId: room.id,
    body: `hi @${alice.user.login} and @${carl.login}`,
    clientId: "m1",
  });
  const article = ui.getByRole("article", { name: /mentions you/ });
  await article.waitFor();
  assert.deepEqual(await article.locator("mark.mention-me").allTextContents(), [`@${alice.user.login}`]);
  assert.deepEqual(await article.locator("mark.mention:not(.mention-me)").allTextContents(), [
    `@${carl.login}`,
  ]);

  // a mention in another chat: a badge of its own beside the unread one, and the title's count
  const { room: direct } = await ok(b, "room:direct", { userId: alice.user.id });
  await ok(b, "message:send", { roomId: direct.id, body: "are you free?", clientId: "d1" });
  await ok(b, "message:send", { roomId: direct.id, body: `@${alice.user.login} ping`, clientId: "d2" });
  const item = roomButton(ui, "Bob Mention");
  await item.locator(".mention-badge", { hasText: "@" }).waitFor();
  assert.equal(await item.locator(".badge:not(.mention-badge)").textContent(), "2 unread");
  await until(async () => (await alice.page.title()) === "(2) TimeWise Chat", 5000, "the title's count");
  await item.click();
  await item.locator(".mention-badge").waitFor({ state: "detached" });
  await until(async () => (await alice.page.title()) === "TimeWise Chat", 5000, "the title without a count");
});
