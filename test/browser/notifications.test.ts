/**
 * Notifications in a real browser: the email digest's room link opens its room (on load, through a
 * token link, after the password form, and when only the fragment changes); the Settings panel's email choices and a room's
 * "Notify me" reach the server and come back after a reload; the sound choice stays in this
 * browser; and desktop notifications are never asked for on first load, only from the button.
 * (The tab title's unread count is in mentions.test.ts.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { roomLink } from "../../src/chat/notifications/mailer.js";
import { newPerson, roomButton, say, signInWithPassword, useBrowser } from "../support/browser.js";
import { ok, startServer, until } from "../support/harness.js";

const { skip, browser } = await useBrowser();

test("the digest's room link opens that room: with a token, after signing in, and on a fragment change", {
  skip,
}, async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const alice = await newPerson(t, browser(), server, "Alice Linked");
  const bob = await server.addUser("Bob Linker");
  const b = await server.connect(bob);
  const { room: alpha } = await ok(b, "room:create", { name: "Alpha", memberIds: [alice.user.id] });
  const { room: beta } = await ok(b, "room:create", { name: "Beta", memberIds: [alice.user.id] });
  const { room: secret } = await ok(b, "room:create", { name: "Secret", memberIds: [] });
  const title = alice.ui.locator("#room-title");

  // signed in by a token link that also names a room, as the PHP app may send
  const token = await server.token(alice.user.id);
  await alice.page.goto(`${roomLink(server.url, beta.id)}&token=${token}`);
  await until(async () => (await title.textContent().catch(() => null)) === "Beta", 10_000, "Beta open");
  assert.equal(new URL(alice.page.url()).hash, "", "token and room are taken out of the address");

  // the page is already open: only the fragment changes
  await alice.page.evaluate(
    `location.hash = ${JSON.stringify(new URL(roomLink(server.url, alpha.id)).hash)}`,
  );
  await until(async () => (await title.textContent()) === "Alpha", 10_000, "Alpha open");

  // a fresh load of the mail's link, exactly as the mail writes it: the room opens after signing in
  await alice.page.goto("about:blank");
  await alice.page.goto(roomLink(server.url, beta.id));
  await alice.page.getByLabel("Username").fill(alice.user.login);
  await alice.page.getByLabel("Password").fill(alice.password);
  await alice.page.getByRole("button", { name: "Sign in" }).click();
  await until(async () => (await title.textContent().catch(() => null)) === "Beta", 10_000, "Beta again");

  // a room she is not in opens nothing and says so
  await alice.page.evaluate(
    `location.hash = ${JSON.stringify(new URL(roomLink(server.url, secret.id)).hash)}`,
  );
  await alice.ui.getByRole("alert").filter({ hasText: "could not be opened" }).waitFor();
  assert.equal(await title.count(), 0);
});

test("Settings and a room's Notify me reach the server and are there after a reload; the sound stays", {
  skip,
}, async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const alice = await newPerson(t, browser(), server, "Alice Settings");
  const mine = await server.connect(alice.user);
  const bob = await server.addUser("Bob Settings");
  const b = await server.connect(bob);
  const { room } = await ok(b, "room:create", { name: "Quiet", memberIds: [alice.user.id] });
  await signInWithPassword(alice, server);
  const ui = alice.ui;

  await ui.getByRole("button", { name: "Settings", exact: true }).click();
  const email = ui.getByLabel("Email me about messages I missed");
  const delay = ui.getByLabel("Wait this many minutes before emailing");
  const sound = ui.getByLabel("Play a sound for new messages while this tab is in the background");
  await email.waitFor();
  const start = (await ok(mine, "user:prefs:get", {})).prefs;
  assert.equal(await email.isChecked(), start.email === "digest", "the panel shows the server's choice");
  if (start.email === "digest") await email.uncheck();
  await email.check();
  await until(async () => (await ok(mine, "user:prefs:get", {})).prefs.email === "digest", 5000, "digest on");
  await delay.fill("45");
  await delay.press("Tab");
  await until(async () => (await ok(mine, "user:prefs:get", {})).prefs.emailDelayMin === 45, 5000, "delay");
  await sound.check();
  await ui.getByRole("button", { name: "Done" }).click();

  await roomButton(ui, "Quiet").click();
  await ui.getByLabel("Notify me:").selectOption({ label: "Only when I'm mentioned" });
  await until(
    async () => (await ok(mine, "room:get", { roomId: room.id })).room.notify === "mentions",
    5000,
    "the room's setting on the server",
  );

  // changed elsewhere (another device): the reload shows the server's state, not a cached one
  await ok(mine, "user:prefs:set", { email: "off" });
  await alice.page.reload();
  await roomButton(ui, "Quiet").click();
  assert.equal(await ui.getByLabel("Notify me:").inputValue(), "mentions");
  await ui.getByRole("button", { name: "Settings", exact: true }).click();
  await email.waitFor();
  assert.equal(await email.isChecked(), false);
  assert.equal(await delay.inputValue(), "45");
  assert.equal(await sound.isChecked(), true, "the sound choice is kept in this browser");
  await sound.uncheck();
  await alice.page.reload();
  await ui.getByRole("button", { name: "Settings", exact: true }).click();
  await email.waitFor();
  assert.equal(await sound.isChecked(), false);
});

test("desktop notifications are not asked for on first load; the button asks once, after a first message", {
  skip,
}, async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const alice = await newPerson(t, browser(), server, "Alice Asked");
  // counts the page's permission requests (and answers none of them)
  await alice.context.addInitScript(`
    window.asked = 0;
    Notification.requestPermission = () => {
      window.asked++;
      return Promise.resolve("default");
    };`);
  const asked = () => alice.page.evaluate<number>("window.asked");
  const bob = await server.addUser("Bob Asker");
  const b = await server.connect(bob);
  const { room } = await ok(b, "room:direct", { userId: alice.user.id });
  await ok(b, "message:send", { roomId: room.id, body: "welcome", clientId: "w1" });
  await signInWithPassword(alice, server);
  const ui = alice.ui;
  await roomButton(ui, "Bob Asker").click();
  await ui.locator(".msg-body", { hasText: "welcome" }).waitFor();
  const offer = ui.getByRole("banner").getByRole("button", { name: "Turn on desktop notifications" });
  assert.equal(await asked(), 0, "nothing asked on load");
  assert.equal(await offer.count(), 0, "no offer before Alice wrote anything");

  await say(ui, "hello back");
  await offer.waitFor();
  assert.equal(await asked(), 0, "an offer, not a question");
  await offer.click();
  await offer.waitFor({ state: "detached" });
  assert.equal(await asked(), 1);
  await alice.page.reload();
  await ui.getByRole("navigation", { name: "Chats" }).waitFor();
  await roomButton(ui, "Bob Asker").click();
  await say(ui, "and again");
  await ui.locator(".msg:not(.pending) .msg-body", { hasText: "and again" }).waitFor();
  assert.equal(await offer.count(), 0, "never offered again once asked");
  assert.equal(await asked(), 0, "the reload asked nothing");
});
