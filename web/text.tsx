/**
 * Message text, rendered as text: Preact puts strings in text nodes, so markup in a message is
 * shown, never run. Web addresses become links, but only http(s) ones, opened in a new tab without
 * access back to this page.
 */
import type { ComponentChildren } from "preact";
import type { MentionMark } from "./mentions.js";

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi;
/** Punctuation that usually ends a sentence, not the address. */
const TRAILING = /[.,;:!?)\]}]+$/;

/** A link only for a well-formed http(s) address; anything else stays text. */
function safeHref(candidate: string): string | null {
  try {
    const url = new URL(candidate);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** The body with its mentions marked (`<mark>`, stronger for mine) and its web addresses linked. */
export function MessageText({ body, marks = [] }: { body: string; marks?: MentionMark[] }) {
  const parts: ComponentChildren[] = [];
  let last = 0;
  for (const mark of marks) {
    if (mark.start > last) parts.push(<Linked text={body.slice(last, mark.start)} />);
    parts.push(
      <mark class={mark.mine ? "mention mention-me" : "mention"}>{body.slice(mark.start, mark.end)}</mark>,
    );
    last = mark.end;
  }
  if (last < body.length) parts.push(<Linked text={body.slice(last)} />);
  return <>{parts}</>;
}

function Linked({ text: body }: { text: string }) {
  const parts: ComponentChildren[] = [];
  let last = 0;
  for (const match of body.matchAll(URL_PATTERN)) {
    const raw = match[0];
    const text = raw.replace(TRAILING, "");
    const start = match.index;
    const href = safeHref(text);
    if (!href) continue;
    if (start > last) parts.push(body.slice(last, start));
    parts.push(
      <a href={href} target="_blank" rel="noopener noreferrer nofollow">
        {text}
      </a>,
    );
    last = start + text.length;
  }
  if (last < body.length) parts.push(body.slice(last));
  return <>{parts}</>;
}
