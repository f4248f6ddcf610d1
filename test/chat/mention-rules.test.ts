/**
 * The mention rules (src/chat/messages/mentions.ts) on their own, for the cases a chat test would
 * need many users for: logins that differ only in case, members the directory no longer has,
 * Unicode logins, and bodies with many `@`s.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { mentionCandidates, needsLogins, resolveMentions } from "../../src/chat/messages/mentions.js";
import type { DirectoryUser } from "../../src/users/types.js";

const user = (id: string, login: string): DirectoryUser => ({
  id,
  login,
  name: login,
  active: true,
  scope: null,
  email: null,
});

test("the runs after each @ are found only where a mention can start", () => {
  assert.deepEqual(mentionCandidates("no at sign here"), []);
  assert.deepEqual(mentionCandidates("@ann, @bob.smith. x@y.z (@carl) @@dan @-eve @_fay"), [
    "ann",
    "bob.smith",
    "carl",
    "_fay",
  ]);
  assert.deepEqual(mentionCandidates("mail ann@example.com, or @ann@example.com"), ["ann@example.com"]);
  assert.deepEqual(mentionCandidates("@Ölaf und @José!"), ["Ölaf", "José"]);
});

test("logins that differ only in case: the exact spelling names one, another spelling nobody", () => {
  const members = [user("1", "Kim"), user("2", "kim")];
  assert.deepEqual(resolveMentions(["kim"], "group", members).userIds, ["2"]);
  assert.deepEqual(resolveMentions(["Kim"], "group", members).userIds, ["1"]);
  assert.deepEqual(resolveMentions(["KIM"], "group", members).userIds, []);
});

test("Unicode logins compare ignoring case, as the built-in directory folds them", () => {
  const members = [user("5", "Ölaf")];
  assert.deepEqual(resolveMentions(mentionCandidates("hej @ÖLAF"), "group", members).userIds, ["5"]);
});

test("a login cut before a dot, dash or @ is tried when the whole run names nobody", () => {
  const members = [user("1", "ann"), user("2", "ann-marie")];
  assert.deepEqual(resolveMentions(mentionCandidates("@ann-marie @ann-bob @ann@corp"), "group", members), {
    userIds: ["2", "1"],
    all: false,
  });
});

test("each member is listed once, in the order first mentioned, however often the body names them", () => {
  const members = Array.from({ length: 50 }, (_, i) => user(String(i + 1), `u${i + 1}`));
  const body = Array.from({ length: 400 }, (_, i) => `@u${50 - (i % 50)}`).join(" ");
  const { userIds } = resolveMentions(mentionCandidates(body), "group", members);
  assert.deepEqual(
    userIds,
    Array.from({ length: 50 }, (_, i) => String(50 - i)),
  );
});

test("@all and @here need no logins in a group, and are logins in a direct room", () => {
  assert.equal(needsLogins(["all", "HERE"], "group"), false);
  assert.equal(needsLogins(["all", "bob"], "group"), true);
  assert.equal(needsLogins(["all"], "direct"), true);
  assert.deepEqual(resolveMentions(["all"], "direct", [user("9", "all")]), { userIds: ["9"], all: false });
  assert.deepEqual(resolveMentions(["all"], "group", [user("9", "all")]), { userIds: [], all: true });
});
