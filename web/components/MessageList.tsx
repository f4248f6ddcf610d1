/**
 * The conversation: older pages load when scrolled to the top (or with the button), day
 * separators, my unsent messages at the end, and "Seen by" under my latest message. New messages
 * are announced to screen readers through the log role.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { Message, OutboxItem } from "../../src/sdk/index.js";
import { dayLabel, nameList, sameDay, timeOf } from "../format.js";
import { describeError, useClient } from "../hooks.js";
import { MessageText } from "../text.js";
import { MessageItem } from "./MessageItem.js";

/** Within this many pixels of the bottom counts as "reading the newest messages". */
const NEAR_BOTTOM_PX = 60;

export function MessageList({
  roomId,
  highlightId,
  onReply,
  onEdit,
}: {
  roomId: string;
  highlightId: string | null;
  onReply: (m: Message) => void;
  onEdit: (m: Message) => void;
}) {
  const client = useClient();
  const state = client.state;
  const room = state.room(roomId);
  const roomState = state.roomState(roomId);
  const messages = state.messages(roomId);
  const pending = state.pending(roomId);
  const me = state.me?.id;
  const list = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const anchor = useRef<{ height: number; top: number } | null>(null);
  const lastKey = useRef<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const loadOlder = () => {
    const el = list.current;
    if (!el || loadingOlder || !roomState?.hasOlder) return;
    anchor.current = { height: el.scrollHeight, top: el.scrollTop };
    setLoadingOlder(true);
    client
      .loadOlder(roomId)
      .catch((e: unknown) => setError(describeError(e)))
      .finally(() => setLoadingOlder(false));
  };

  // Keep the view steady: older pages must not push the reader's place away, and new messages
  // scroll into view only when the reader is at the bottom already (or wrote them).
  const newest = pending.at(-1)?.clientId ?? messages.at(-1)?.id ?? null;
  const newestIsMine = pending.length > 0 || messages.at(-1)?.senderId === me;
  useLayoutEffect(() => {
    const el = list.current;
    if (!el) return;
    if (anchor.current && !loadingOlder) {
      el.scrollTop = el.scrollHeight - anchor.current.height + anchor.current.top;
      anchor.current = null;
    } else if (atBottom.current || (newest !== lastKey.current && newestIsMine)) {
      el.scrollTop = el.scrollHeight;
    }
    lastKey.current = newest;
  });

  useEffect(() => {
    if (!highlightId) return;
    document.getElementById(`message-${highlightId}`)?.scrollIntoView({ block: "center" });
  }, [highlightId, messages.length]);

  if (!room) return null;
  const moderator = room.members.some((m) => m.userId === me && m.role !== "member");
  const byId = new Map(messages.map((m) => [m.id, m]));
  const seenBy = seenByText(messages, room.members, me, state.userName.bind(state));

  const items: ComponentChildren[] = [];
  let previous: Message | undefined;
  for (const message of messages) {
    if (!previous || !sameDay(previous.createdAt, message.createdAt)) {
      items.push(<DaySeparator key={`day-${message.id}`} iso={message.createdAt} />);
    }
    items.push(
      <MessageItem
        key={message.id}
        message={message}
        mine={message.senderId === me}
        moderator={moderator}
        showSender={room.type === "group" && previous?.senderId !== message.senderId}
        replyTo={message.replyToId ? byId.get(message.replyToId) : undefined}
        highlighted={message.id === highlightId}
        onReply={onReply}
        onEdit={onEdit}
      />,
    );
    previous = message;
  }

  return (
    <div
      class="messages"
      ref={list}
      role="log"
      aria-label="Messages"
      aria-live="polite"
      onScroll={() => {
        const el = list.current;
        if (!el) return;
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
        if (el.scrollTop < 40) loadOlder();
      }}
    >
      {roomState?.hasOlder && (
        <button type="button" class="load-older" disabled={loadingOlder} onClick={loadOlder}>
          {loadingOlder ? "Loading…" : "Show older messages"}
        </button>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {roomState?.loaded && messages.length === 0 && pending.length === 0 && (
        <p class="hint center">No messages yet. Say hello!</p>
      )}
      {items}
      {seenBy && <p class="seen-by">{seenBy}</p>}
      {pending.map((item) => (
        <PendingItem key={item.clientId} item={item} />
      ))}
    </div>
  );
}

function DaySeparator({ iso }: { iso: string }) {
  // a heading, so screen-reader users can jump from day to day
  return (
    <h3 class="day">
      <span>{dayLabel(iso)}</span>
    </h3>
  );
}

/** A message of mine the server has not stored yet: waiting, or refused with a reason. */
function PendingItem({ item }: { item: OutboxItem }) {
  const client = useClient();
  const failed = item.state === "failed";
  return (
    <article
      class={`msg mine pending${failed ? " failed" : ""}`}
      aria-label={`You, ${timeOf(item.createdAt)}`}
    >
      <div class="msg-bubble">
        {item.body !== "" && (
          <p class="msg-body" dir="auto">
            <MessageText body={item.body} />
          </p>
        )}
        {(item.fileIds?.length ?? 0) > 0 && (
          <p class="msg-pending-files">
            📎 {item.fileIds?.length === 1 ? "1 file" : `${item.fileIds?.length} files`}
          </p>
        )}
        <span class="msg-meta">
          {failed ? "Not sent" : client.status === "online" ? "Sending…" : "Waiting to send"}
        </span>
      </div>
      {failed && (
        <fieldset class="msg-confirm">
          <legend class="sr-only">Not sent</legend>
          <span>{item.error?.message ?? "This message was not sent."}</span>
          <button type="button" onClick={() => client.retry(item.clientId)}>
            Try again
          </button>
          <button type="button" onClick={() => client.discard(item.clientId)}>
            Delete
          </button>
        </fieldset>
      )}
    </article>
  );
}

/** "Seen by Bob" under my newest message, from the other members' read markers. */
function seenByText(
  messages: Message[],
  members: { userId: string; readSeq: number }[],
  me: string | undefined,
  nameOf: (id: string) => string | undefined,
): string | null {
  const newest = messages.at(-1);
  if (!newest || newest.senderId !== me || newest.deleted) return null;
  const readers = members.filter((m) => m.userId !== me && m.readSeq >= newest.seq);
  if (readers.length === 0) return null;
  const others = members.filter((m) => m.userId !== me).length;
  if (others > 1 && readers.length === others) return "Seen by everyone";
  return `Seen by ${nameList(readers.map((r) => nameOf(r.userId) ?? "someone"))}`;
}
