/**
 * Mentions in the page: finding `@login` in a body the way the server does
 * (src/chat/messages/mentions.ts), which of them name a mentioned member, and the logins this
 * page has learned (the signed-in user's own, and members found while completing a mention).
 */
import type { Message } from "../src/sdk/index.js";

/** The server's rule for where a mention starts and what a login may hold (same pattern). */
const MENTION = /(?<![\p{L}\p{N}_.+\-@])@([\p{L}\p{N}_](?:[\p{L}\p{N}_.\-@]*[\p{L}\p{N}_])?)/gu;
const CUT = /[.\-@]/g;
const EVERYONE = new Set(["all", "here"]);

const fold = (login: string) => login.toLowerCase();

/** Logins learned so far, by user id: the server only sends them on `session` and `user:search`. */
const logins = new Map<string, string>();

export function learnLogin(userId: string, login: string | undefined): void {
  if (login) logins.set(userId, login);
}

export function loginOf(userId: string): string | undefined {
  return logins.get(userId);
}

/** A highlighted part of a body: characters `start` to `end`, and whether it names me. */
export interface MentionMark {
  start: number;
  end: number;
  mine: boolean;
}

/** Whether the message mentions me (by login, or everyone in a group). */
export function mentionsMe(message: Message, me: string | undefined): boolean {
  if (!me || message.senderId === me) return false;
  return message.mentionsAll || message.mentions.includes(me);
}

/**
 * The mentions to highlight in a message: `@all`/`@here` when it mentions everyone, and each
 * `@login` of a member it mentions. A login not learned yet is matched by order: when every
 * other `@word` is a mention, the n-th one is the n-th mentioned member (the server lists them in
 * the order they first appear).
 */
export function mentionMarks(message: Message, me: string | undefined): MentionMark[] {
  if (message.deleted || !message.body.includes("@")) return [];
  const runs = [...message.body.matchAll(MENTION)].map((m) => ({ start: m.index, run: m[1] ?? "" }));
  const mentioned = new Map<string, string>();
  for (const id of message.mentions) {
    const login = logins.get(id);
    if (login) mentioned.set(fold(login), id);
  }
  const others = runs.filter((r) => !(message.mentionsAll && EVERYONE.has(fold(r.run))));
  const distinct = [...new Set(others.map((r) => fold(r.run)))];
  const byOrder = distinct.length === message.mentions.length;
  const marks: MentionMark[] = [];
  for (const { start, run } of runs) {
    if (message.mentionsAll && EVERYONE.has(fold(run))) {
      marks.push({ start, end: start + run.length + 1, mine: message.senderId !== me });
      continue;
    }
    const known = readings(run).find((r) => mentioned.has(fold(r)));
    if (known !== undefined) {
      marks.push({ start, end: start + known.length + 1, mine: mentioned.get(fold(known)) === me });
    } else if (byOrder) {
      const id = message.mentions[distinct.indexOf(fold(run))];
      marks.push({ start, end: start + run.length + 1, mine: id === me });
    }
  }
  return marks;
}

/** The ways the server reads one run, longest first. */
function readings(run: string): string[] {
  const cuts = [...run.matchAll(CUT)].map((m) => m.index).reverse();
  return [run, ...cuts.filter((i) => i > 0).map((i) => run.slice(0, i))];
}

/** The `@word` being typed just before the caret, or null: what the picker completes. */
export function typedMention(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = /(?:^|[^\p{L}\p{N}_.+\-@])@([\p{L}\p{N}_.-]*)$/u.exec(before);
  if (!match) return null;
  const query = match[1] ?? "";
  return { start: caret - query.length - 1, query };
}
