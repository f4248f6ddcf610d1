/**
 * Working with messages in a real browser: paging back through history, editing, reacting,
 * replying, deleting, and finding a message with search.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  newPerson,
  roomButton,
  say,
  screenshot,
  signInWithPassword,
  type Ui,
  useBrowser,
} from "../support/browser.js";
import { ok, startServer, until } from "../support/harness.js";

const { skip, browser } = await useBrowser();

/** The message with this text, and a click on one of its actions. */
function message(ui: Ui, text: string | RegExp) {
  return ui.getByRole("article").filter({ has: ui.locator(".msg-body", { hasText: text }) });
}

async function act(ui: Ui, text: string, action: string): Promise<void> {
  await message(ui, text).getByRole("button", { name: "Message actions" }).click();
  await message(ui, text).getByRole("button", { name: action }).click();
}

test("scroll back through history, edit, react, reply, delete and search", { skip }, async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const alice = await newPerson(t, browser(), server, "Alice Smith");
  const bob = await newPerson(t, browser(), server, "Bob Jones");
  // Bob has written 60 messages before Alice opens the page: more than one page
  const bobSocket = await server.connect(bob.user);
  const { room } = await ok(bobSocket, "room:direct", { userId: alice.user.id });
  for (let i = 1; i <= 60; i++) {
    await ok(bobSocket, "message:send", { roomId: room.id, body: `Old note ${i}`, clientId: `old-${i}` });
  }
  await signInWithPassword(alice, server);
  await signInWithPassword(bob, server);
  await roomButton(alice.ui, "Bob Jones").locator(".badge", { hasText: "60" }).waitFor();
  await roomButton(alice.ui, "Bob Jones").click();
  await message(alice.ui, "Old note 60").waitFor();
  assert.equal(await message(alice.ui, /^Old note 1$/).count(), 0, "only the newest page at first");
  await alice.ui.getByRole("log", { name: "Messages" }).evaluate((el) => {
    el.scrollTop = 0;
  });
  await alice.ui.locator(".msg-body", { hasText: /^Old note 1$/ }).waitFor();
  await alice.ui.getByRole("button", { name: "Show older messages" }).waitFor({ state: "detached" });

  // edit
  await say(alice.ui, "Lunch at noon?");
  await roomButton(bob.ui, "Alice Smith").click();
  await message(bob.ui, "Lunch at noon?").waitFor();
  await act(alice.ui, "Lunch at noon?", "Edit");
  const box = alice.ui.getByRole("textbox", { name: "Message" });
  await until(async () => (await box.inputValue()) === "Lunch at noon?", 5000, "the text to edit");
  await box.fill("Lunch at 12:30?");
  await box.press("Enter");
  await message(bob.ui, "Lunch at 12:30?").getByText("edited").waitFor();

  // react and reply
  await act(bob.ui, "Lunch at 12:30?", "React with 👍");
  await message(alice.ui, "Lunch at 12:30?")
    .getByRole("button", { name: /^👍 1, from Bob Jones/ })
    .waitFor();
  await act(bob.ui, "Lunch at 12:30?", "Reply");
  await bob.ui.getByText("Replying to Alice Smith: Lunch at 12:30?").waitFor();
  await say(bob.ui, "Sounds good, see you there");
  const reply = message(alice.ui, "Sounds good, see you there");
  await reply.getByText("In reply to").waitFor();
  assert.match((await reply.locator(".msg-quote").textContent()) ?? "", /You: Lunch at 12:30\?/);
  await screenshot(alice.page, "desktop-message-actions");

  // delete
  await say(alice.ui, "Oops, wrong chat");
  await message(bob.ui, "Oops, wrong chat").waitFor();
  await act(alice.ui, "Oops, wrong chat", "Delete");
  await alice.ui
    .getByRole("group", { name: "Delete this message?" })
    .getByRole("button", { name: "Delete" })
    .click();
  await bob.ui.locator(".msg-body.deleted", { hasText: "Message deleted" }).waitFor();
  assert.equal(await message(bob.ui, "Oops, wrong chat").count(), 0);

  // search finds a message and opens its chat
  await alice.ui.getByRole("button", { name: "Search", exact: true }).click();
  await alice.ui.getByLabel("Words to find").fill("Old note 7");
  await alice.ui.getByRole("list", { name: "Messages found" }).getByRole("button").first().click();
  await alice.ui.getByRole("heading", { name: "Bob Jones" }).waitFor();
  await alice.ui.locator(".msg.highlighted").waitFor();
  assert.deepEqual(alice.dialogs, []);
  assert.deepEqual(alice.cspErrors, []);
});
