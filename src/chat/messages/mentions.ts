/**
 * (v2.3) Mentions: `@login` in a body names a member by their login, `@all` and `@here` everyone
 * in a group. The server finds them on every send and edit; a payload never says who is mentioned.
 *
 * The rules:
 * - an `@` starts a mention only at the start of the text or after a character that is not a
 *   letter, digit, `_`, `.`, `-`, `+` or `@`: `a@b.com` (an email address) mentions nobody, while
 *   `(@bob)`, `@bob,` and `hi @bob.` do;
 * - a login runs over letters, digits, `_`, `.`, `-` and `@`; when the whole run names nobody,
 *   shorter runs ending before a `.`, `-` or `@` are tried, longest first (`@bob.` is bob at the
 *   end of a sentence, `@bob.smith` is bob.smith when there is one);
 * - logins compare ignoring case, as TimeWise's directories do; when two members' logins differ
 *   only in case (a case-sensitive MySQL collation), only the exact spelling names one of them;
 * - only members are mentioned; `@all`/`@here` are everyone only in a group (in a direct room
 *   they are read as logins).
 */
import type { RoomType } from "../../protocol/index.js";
import { type MentionSet, NO_MENTIONS } from "../../storage/mentions.js";
import type { DirectoryUser } from "../../users/types.js";

const MENTION = /(?<![\p{L}\p{N}_.+\-@])@([\p{L}\p{N}_](?:[\p{L}\p{N}_.\-@]*[\p{L}\p{N}_])?)/gu;
/** Where a login may be cut short, so the rest is read as punctuation. */
const CUT = /[.\-@]/g;
const EVERYONE = new Set(["all", "here"]);

/** The runs after each `@` that may be mentions, in the order they appear. */
export function mentionCandidates(body: string): string[] {
  // most messages mention nobody: one cheap test before the regular expression
  if (!body.includes("@")) return [];
  return [...body.matchAll(MENTION)].map((m) => m[1]!);
}

/** The ways to read one run, longest first: the whole run, then cut before each `.`, `-`, `@`. */
function readings(run: string): string[] {
  const cuts = [...run.matchAll(CUT)].map((m) => m.index).reverse();
  return [run, ...cuts.filter((i) => i > 0).map((i) => run.slice(0, i))];
}

/** Case-insensitive form of a login (the directories fold case like this). */
function fold(login: string): string {
  return login.normalize("NFC").toLowerCase();
}

/** Whether resolving `runs` needs the members' logins (not when they are only `@all`/`@here`). */
export function needsLogins(runs: readonly string[], roomType: RoomType): boolean {
  return runs.some((run) => roomType !== "group" || !EVERYONE.has(fold(run)));
}

/**
 * Resolves the runs against the room's members (as the directory knows them). Members the
 * directory no longer has cannot be mentioned.
 */
export function resolveMentions(
  runs: readonly string[],
  roomType: RoomType,
  members: Iterable<DirectoryUser>,
): MentionSet {
  if (runs.length === 0) return NO_MENTIONS;
  const byLogin = new Map<string, DirectoryUser[]>();
  for (const user of members) {
    const key = fold(user.login);
    const same = byLogin.get(key);
    if (same) same.push(user);
    else byLogin.set(key, [user]);
  }
  const ids: string[] = [];
  const seen = new Set<string>();
  let all = false;
  for (const run of runs) {
    if (roomType === "group" && EVERYONE.has(fold(run))) {
      all = true;
      continue;
    }
    for (const reading of readings(run)) {
      const found = byLogin.get(fold(reading));
      if (!found) continue;
      const user = found.length === 1 ? found[0] : found.find((u) => u.login === reading);
      if (user && !seen.has(user.id)) {
        seen.add(user.id);
        ids.push(user.id);
      }
      break;
    }
  }
  return ids.length === 0 && !all ? NO_MENTIONS : { userIds: ids, all };
}
