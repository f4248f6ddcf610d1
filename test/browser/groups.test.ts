/**
 * Groups in a real browser: created from the UI, and renames and membership changes that reach
 * the other members live — one of them on a phone-sized screen, signed in through a token link.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  newPerson,
  PHONE,
  roomButton,
  say,
  screenshot,
  signInWithPassword,
  useBrowser,
} from "../support/browser.js";
import { startServer } from "../support/harness.js";

const { skip, browser } = await useBrowser();

test("a group's rename and membership changes reach every member live, on desktop and phone", {
  skip,
}, async (t) => {
  const server = await startServer();
  t.after(() => server.close());
  const alice = await newPerson(t, browser(), server, "Alice Smith");
  const bob = await newPerson(t, browser(), server, "Bob Jones");
  const carol = await newPerson(t, browser(), server, "Carol White", PHONE);
  await signInWithPassword(alice, server);
  await signInWithPassword(bob, server);
  // Carol follows a link that hands her a token (the no-script way to embed)
  await carol.page.goto(`${server.url}/#token=${await server.token(carol.user.id)}`);
  await carol.ui.getByRole("navigation", { name: "Chats" }).waitFor();
  assert.equal(new URL(carol.page.url()).hash, "", "the token is taken out of the address");

  // Alice creates a group with Bob
  await alice.ui.getByRole("button", { name: "New group" }).click();
  await alice.ui.getByLabel("Group name").fill("Project Falcon");
  await alice.ui.getByLabel("Add people").fill("Bob");
  await alice.ui.getByRole("button", { name: "Add Bob Jones" }).click();
  await alice.ui.getByRole("button", { name: "Create group" }).click();
  await alice.ui.getByRole("heading", { name: "Project Falcon" }).waitFor();
  await say(alice.ui, "Welcome to the Falcon project!");
  await roomButton(bob.ui, "Project Falcon").click();
  await bob.ui.locator(".msg-body", { hasText: "Welcome to the Falcon project!" }).waitFor();
  await bob.ui.getByText("2 people: Alice Smith and you").waitFor();

  // Alice adds Carol: the group appears on Carol's phone, and Bob sees a third member
  await alice.ui.getByRole("button", { name: "Group settings" }).click();
  await alice.ui.getByRole("button", { name: "Add people" }).click();
  await alice.ui.getByLabel("Add people").fill("Carol");
  await alice.ui.getByRole("button", { name: "Add Carol White" }).click();
  await alice.ui
    .getByRole("list", { name: "People in this group" })
    .getByText("Carol White", { exact: true })
    .waitFor();
  await screenshot(alice.page, "desktop-group-settings");
  await roomButton(carol.ui, "Project Falcon").waitFor();
  await bob.ui.getByText("3 people: Alice Smith, you and Carol White").waitFor();

  // Alice renames the group: everyone sees the new name at once
  await alice.ui.getByLabel("Group name").fill("Falcon launch");
  await alice.ui.getByRole("button", { name: "Save name" }).click();
  await alice.ui.getByRole("button", { name: "Close" }).click();
  await alice.ui.getByRole("heading", { name: "Falcon launch" }).waitFor();
  await bob.ui.getByRole("heading", { name: "Falcon launch" }).waitFor();
  await roomButton(carol.ui, "Falcon launch").waitFor();
  await screenshot(carol.page, "phone-chats");

  // On the phone the open chat takes the whole screen, with a way back
  await roomButton(carol.ui, "Falcon launch").click();
  await carol.ui.getByRole("heading", { name: "Falcon launch" }).waitFor();
  assert.equal(await carol.ui.getByRole("navigation", { name: "Chats" }).isVisible(), false);
  await say(carol.ui, "Thanks for adding me!");
  await alice.ui.locator(".msg-body", { hasText: "Thanks for adding me!" }).waitFor();
  await say(bob.ui, "Hi Carol 👋");
  await carol.ui.locator(".msg-body", { hasText: "Hi Carol 👋" }).waitFor();
  await screenshot(carol.page, "phone-chat");
  // a string, because these tests compile without the DOM's types
  const overflow = await carol.page.evaluate<number>(
    "document.documentElement.scrollWidth - window.innerWidth",
  );
  assert.ok(overflow <= 0, `nothing sticks out sideways at 360 px (${overflow} px)`);

  // Alice removes Carol: the group leaves Carol's phone, and Bob's member count drops
  await alice.ui.getByRole("button", { name: "Group settings" }).click();
  await alice.ui.getByRole("button", { name: "Remove Carol White from the group" }).click();
  await alice.ui
    .getByRole("list", { name: "People in this group" })
    .getByText("Carol White", { exact: true })
    .waitFor({ state: "detached" });
  await alice.ui.getByRole("button", { name: "Close" }).click();
  await carol.ui.getByRole("navigation", { name: "Chats" }).waitFor();
  await roomButton(carol.ui, "Falcon launch").waitFor({ state: "detached" });
  await bob.ui.getByText("2 people: Alice Smith and you").waitFor();

  // Bob leaves: the group is gone from his list, and Alice is on her own
  await bob.ui.getByRole("button", { name: "Group settings" }).click();
  await bob.ui.getByRole("button", { name: "Leave group" }).click();
  await roomButton(bob.ui, "Falcon launch").waitFor({ state: "detached" });
  await alice.ui.getByText("1 person: you").waitFor();

  for (const p of [alice, bob, carol]) {
    assert.deepEqual(p.dialogs, []);
    assert.deepEqual(p.cspErrors, []);
  }
});
