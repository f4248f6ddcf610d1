/**
 * The web app in a real browser: two people in a direct chat, one signed in with the password
 * form, the other inside a "PHP page" that embeds the chat with one script tag and a token.
 */
import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import {
  type BrowserPerson,
  composer,
  newPerson,
  openEmbedded,
  roomButton,
  say,
  screenshot,
  shownMessages,
  signInWithPassword,
  type Ui,
  useBrowser,
} from "../support/browser.js";
import { ok, startServer, type TestServer, until } from "../support/harness.js";

const { skip, browser } = await useBrowser();

/** Two people, each in their own browser context, with a fresh server. */
async function twoPeople(
  t: TestContext,
): Promise<{ server: TestServer; alice: BrowserPerson; bob: BrowserPerson }> {
  const server = await startServer();
  t.after(() => server.close());
  const alice = await newPerson(t, browser(), server, "Alice Smith");
  const bob = await newPerson(t, browser(), server, "Bob Jones");
  return { server, alice, bob };
}

/** Opens a direct chat from the "New chat" dialog, finding the person by name. */
async function startChat(ui: Ui, name: string): Promise<void> {
  await ui.getByRole("button", { name: "New chat" }).click();
  await ui.getByLabel("Find a person").fill(name.split(" ")[0] ?? name);
  await ui.getByRole("button", { name: `Chat with ${name}` }).click();
  await ui.getByRole("heading", { name }).waitFor();
}

function assertClean(...people: BrowserPerson[]): void {
  for (const p of people) {
    assert.deepEqual(p.dialogs, [], `${p.user.name}: no script dialogs`);
    assert.deepEqual(p.cspErrors, [], `${p.user.name}: no Content-Security-Policy violations`);
  }
}

test("two people chat live: both ways, typing, unread badges, read receipts, history after a reload", {
  skip,
}, async (t) => {
  const { server, alice, bob } = await twoPeople(t);
  await alice.page.goto(server.url);
  await alice.page.getByRole("button", { name: "Sign in" }).waitFor();
  await screenshot(alice.page, "desktop-sign-in");
  await signInWithPassword(alice, server);
  await openEmbedded(t, bob, server);

  // Alice finds Bob by name, using only the keyboard
  await alice.ui.getByRole("button", { name: "New chat" }).focus();
  await alice.page.keyboard.press("Enter");
  await alice.page.keyboard.type("Bob");
  await alice.ui.getByRole("button", { name: "Chat with Bob Jones" }).waitFor();
  await alice.page.keyboard.press("Tab");
  await alice.page.keyboard.press("Enter");
  await alice.ui.getByRole("heading", { name: "Bob Jones" }).waitFor();
  await say(alice.ui, "Hi Bob, are you free at 3?");

  // Bob's list shows the new chat with one unread message; opening it clears the badge
  const aliceEntry = roomButton(bob.ui, "Alice Smith");
  await aliceEntry.locator(".badge", { hasText: "1" }).waitFor();
  await say(alice.ui, "It's about the timesheet export.");
  await aliceEntry.locator(".badge", { hasText: "2" }).waitFor();
  await aliceEntry.click();
  await bob.ui.locator(".msg-body", { hasText: "It's about the timesheet export." }).waitFor();
  await aliceEntry.locator(".badge").waitFor({ state: "detached" });
  await alice.ui.getByText("Seen by Bob Jones").waitFor();

  // Bob types: Alice sees it; Bob sends: Alice gets it live
  await composer(bob.ui).fill("Yes");
  await alice.ui.getByText("Bob Jones is typing…").waitFor();
  await composer(bob.ui).fill("Yes, 3 works. See you then!");
  await composer(bob.ui).press("Enter");
  await alice.ui.locator(".msg-body", { hasText: "Yes, 3 works. See you then!" }).waitFor();
  await alice.ui.getByText("Bob Jones is typing…").waitFor({ state: "hidden" });
  await say(alice.ui, "Great, thanks! Details: https://timewise.example.com/exports");
  await bob.ui.getByRole("link", { name: "https://timewise.example.com/exports" }).waitFor();
  const expected = [
    "Hi Bob, are you free at 3?",
    "It's about the timesheet export.",
    "Yes, 3 works. See you then!",
    "Great, thanks! Details: https://timewise.example.com/exports",
  ];
  await until(async () => (await shownMessages(bob.ui)).length === 4, 5000, "Bob's four messages");
  assert.deepEqual(await shownMessages(alice.ui), expected);
  await screenshot(alice.page, "desktop-chat");
  await screenshot(bob.page, "embedded-in-a-php-page");

  // A reload keeps Alice signed in and her history; the room list shows (how fast is printed, not
  // asserted: a test on a busy machine can't judge speed, the benchmark does)
  await alice.page.reload();
  await roomButton(alice.ui, "Bob Jones").waitFor();
  const renderMs = await alice.page
    .waitForFunction(() => performance.getEntriesByName("twc:rooms-rendered")[0]?.startTime)
    .then(async (handle) => (await handle.jsonValue()) ?? Number.NaN);
  t.diagnostic(`room list rendered ${Math.round(renderMs)} ms after navigation`);
  assert.ok(renderMs > 0, `the page marks when its room list first rendered (got ${renderMs})`);
  await roomButton(alice.ui, "Bob Jones").click();
  await alice.ui.locator(".msg-body", { hasText: "Great, thanks!" }).waitFor();
  assert.deepEqual(await shownMessages(alice.ui), expected);

  // The embedding page reloads too: the host hands the token over again
  await bob.page.reload();
  await roomButton(bob.ui, "Alice Smith").click();
  await bob.ui.locator(".msg-body", { hasText: "Great, thanks!" }).waitFor();
  assert.deepEqual(await shownMessages(bob.ui), expected);
  assertClean(alice, bob);
});

test("messages written while offline are sent once and in order when the connection is back", {
  skip,
}, async (t) => {
  const { server, alice, bob } = await twoPeople(t);
  await signInWithPassword(alice, server);
  await signInWithPassword(bob, server);
  await startChat(alice.ui, "Bob Jones");
  await say(alice.ui, "Before the train tunnel");
  await roomButton(bob.ui, "Alice Smith").click();
  await bob.ui.locator(".msg-body", { hasText: "Before the train tunnel" }).waitFor();

  await alice.context.setOffline(true);
  const banner = alice.ui.getByRole("status").filter({ hasText: "You're offline" });
  await banner.waitFor();
  for (const n of [1, 2, 3]) await say(alice.ui, `In the tunnel ${n}`);
  await alice.ui.getByText("3 messages will be sent when you're back online").waitFor();
  assert.equal(await alice.ui.locator(".msg.pending").count(), 3, "shown as waiting");
  await screenshot(alice.page, "desktop-offline");

  await alice.context.setOffline(false);
  await banner.waitFor({ state: "hidden" });
  await until(
    async () => (await alice.ui.locator(".msg.pending").count()) === 0,
    10_000,
    "the outbox to empty",
  );
  await bob.ui.locator(".msg-body", { hasText: "In the tunnel 3" }).waitFor();
  const expected = ["Before the train tunnel", "In the tunnel 1", "In the tunnel 2", "In the tunnel 3"];
  assert.deepEqual(await shownMessages(bob.ui), expected, "Bob got each once, in order");
  assert.deepEqual(await shownMessages(alice.ui), expected, "Alice sees each once");
  const socket = await server.connect(bob.user);
  const roomId = (await ok(socket, "room:list", {})).rooms[0]?.id ?? "";
  const stored = (await ok(socket, "message:history", { roomId })).messages.map((m) => m.body);
  assert.deepEqual(stored, expected, "the server stored each once");
  assertClean(alice, bob);
});

test("a message with markup shows as text and runs nothing", { skip }, async (t) => {
  const { server, alice, bob } = await twoPeople(t);
  await signInWithPassword(alice, server);
  await signInWithPassword(bob, server);
  await startChat(alice.ui, "Bob Jones");
  const attacks = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    "javascript:alert(3)",
    '<a href="javascript:alert(4)">click</a>',
  ];
  for (const body of attacks) await say(alice.ui, body);
  await roomButton(bob.ui, "Alice Smith").click();
  await bob.ui.locator(".msg-body", { hasText: "click</a>" }).waitFor();
  for (const person of [alice, bob]) {
    assert.deepEqual(await shownMessages(person.ui), attacks, "shown exactly as typed");
    const injected = await person.ui.locator(".msg-body script, .msg-body img, .msg-body a").count();
    assert.equal(injected, 0, "no elements were made from the text");
  }
  assert.match((await roomButton(bob.ui, "Alice Smith").textContent()) ?? "", /click<\/a>/);
  assertClean(alice, bob);
});
