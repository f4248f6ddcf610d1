/**
 * The checks of `UserDirectory.search` that the built-in and the MySQL directory must both pass,
 * written once so the two cannot drift. Both suites seed these searchable users (and more of their
 * own): alice "Alice Anderson", ann "Zoe Ann", bann "Ann", annabel "Annabel Lee", hannah "Hannah
 * Lee", joann "Jo Ann", 100%_real "Percent Sign", under_score "Under Score" and look-alikes
 * 100xxreal and underxscore, all active in scope 1; anne, inactive in scope 1; ann2 "Anny Other" in
 * scope 2. Each suite keeps its own tests and titles, and adds the checks only its seeds allow.
 */
import assert from "node:assert/strict";
import type { DirectoryUser, UserSearchOptions } from "../../src/users/types.js";

/** A suite's search: as alice, in scope 1, scoped, 20 at most, unless `options` say otherwise. */
export type SearchAsAlice = (query: string, options?: Partial<UserSearchOptions>) => Promise<DirectoryUser[]>;

/** The logins of `users`, in their order. */
export const logins = (users: DirectoryUser[]) => users.map((u) => u.login);

/** Exact matches first, then prefixes, then other matches, each by name; case does not matter. */
export async function checkSearchRanking(search: SearchAsAlice): Promise<void> {
  assert.deepEqual(logins(await search("ann")), ["bann", "ann", "annabel", "hannah", "joann"]);
  assert.deepEqual(logins(await search("ANN")), ["bann", "ann", "annabel", "hannah", "joann"]);
  // Matches the whole name too (in MySQL, the joined name columns).
  assert.deepEqual(logins(await search("jo ann")), ["joann"]);
}

/** Inactive anne and the caller (`bannId`) are left out; ann2 of scope 2 only when unscoped. */
export async function checkSearchLeavesOut(search: SearchAsAlice, bannId: string): Promise<void> {
  assert.deepEqual(logins(await search("ann", { excludeId: bannId })), ["ann", "annabel", "hannah", "joann"]);
  assert.deepEqual(logins(await search("ann", { scoped: false })), [
    "bann",
    "ann",
    "annabel",
    "ann2",
    "hannah",
    "joann",
  ]);
}

/** The best matches up to the limit. */
export async function checkSearchLimit(search: SearchAsAlice): Promise<void> {
  assert.deepEqual(logins(await search("ann", { limit: 2 })), ["bann", "ann"]);
}

/** % and _ are the characters themselves, not SQL LIKE wildcards. */
export async function checkSearchLiteralWildcards(search: SearchAsAlice): Promise<void> {
  assert.deepEqual(logins(await search("100%")), ["100%_real"]);
  assert.deepEqual(logins(await search("_")), ["100%_real", "under_score"]);
}
