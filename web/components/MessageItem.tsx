/**
 * One message: who and when, the text (as text), a quoted reply, reactions, and its actions
 * behind one "Message actions" button, so the list stays quick to tab through.
 */
import { useState } from "preact/hooks";
import type { Message } from "../../src/sdk/index.js";
import { preview, timeOf } from "../format.js";
import { describeError, useClient } from "../hooks.js";
import { mentionMarks, mentionsMe } from "../mentions.js";
import { MessageText } from "../text.js";
import { MessageFiles } from "./MessageFiles.js";

/** The reactions offered in the menu; any emoji others used can be toggled from the message. */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

export interface MessageItemProps {
  message: Message;
  mine: boolean;
  /** an owner or admin of the group, who may delete others' messages */
  moderator: boolean;
  showSender: boolean;
  replyTo: Message | undefined;
  highlighted: boolean;
  onReply: (m: Message) => void;
  onEdit: (m: Message) => void;
}

export function MessageItem(props: MessageItemProps) {
  const { message, mine, showSender, replyTo } = props;
  const client = useClient();
  const state = client.state;
  const [menu, setMenu] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sender = mine ? "You" : (state.userName(message.senderId) ?? "Someone");
  const run = (request: Promise<unknown>) => {
    setMenu(false);
    setConfirming(false);
    request.then(
      () => setError(null),
      (e: unknown) => setError(describeError(e)),
    );
  };
  const me = state.me?.id;
  const forMe = mentionsMe(message, me);
  const react = (emoji: string, on: boolean) =>
    run(client.request("message:react", { messageId: message.id, emoji, on }));

  return (
    <article
      class={`msg${mine ? " mine" : ""}${props.highlighted ? " highlighted" : ""}${forMe ? " mentions-me" : ""}`}
      id={`message-${message.id}`}
      aria-label={`${sender}, ${timeOf(message.createdAt)}${forMe ? ", mentions you" : ""}`}
    >
      {showSender && !mine && (
        <div class="msg-sender" dir="auto">
          {sender}
        </div>
      )}
      {replyTo && (
        <div class="msg-quote">
          <span class="sr-only">In reply to </span>
          <strong>
            <bdi>{replyTo.senderId === state.me?.id ? "You" : state.userName(replyTo.senderId)}</bdi>
          </strong>
          : <bdi>{preview(replyTo.body, replyTo.deleted, replyTo.files).slice(0, 120)}</bdi>
        </div>
      )}
      <div class="msg-row">
        <div class="msg-bubble">
          {message.deleted ? (
            <p class="msg-body deleted">Message deleted</p>
          ) : (
            message.body !== "" && (
              // dir="auto": the body reads in its own direction, isolated from what surrounds it
              <p class="msg-body" dir="auto">
                <MessageText body={message.body} marks={mentionMarks(message, me)} />
              </p>
            )
          )}
          {!message.deleted && <MessageFiles files={message.files ?? []} />}
          <span class="msg-meta">
            <time dateTime={message.createdAt}>{timeOf(message.createdAt)}</time>
            {message.editedAt && !message.deleted && " · edited"}
          </span>
        </div>
        {!message.deleted && (
          <button
            type="button"
            class="msg-more"
            aria-expanded={menu}
            aria-label="Message actions"
            onClick={() => setMenu(!menu)}
          >
            ⋯
          </button>
        )}
      </div>
      <Reactions message={message} onToggle={react} />
      {menu && (
        <fieldset class="msg-actions">
          <legend class="sr-only">Message actions</legend>
          <button
            type="button"
            onClick={() => {
              setMenu(false);
              props.onReply(message);
            }}
          >
            Reply
          </button>
          {QUICK_REACTIONS.map((emoji) => (
            <button
              type="button"
              key={emoji}
              aria-label={`React with ${emoji}`}
              onClick={() => react(emoji, !(message.reactions[emoji] ?? []).includes(state.me?.id ?? ""))}
            >
              {emoji}
            </button>
          ))}
          {mine && (
            <button
              type="button"
              onClick={() => {
                setMenu(false);
                props.onEdit(message);
              }}
            >
              Edit
            </button>
          )}
          {(mine || props.moderator) && (
            <button
              type="button"
              onClick={() => {
                setMenu(false);
                setConfirming(true);
              }}
            >
              Delete
            </button>
          )}
        </fieldset>
      )}
      {confirming && (
        <fieldset class="msg-confirm">
          <legend class="sr-only">Delete this message?</legend>
          <span>Delete this message for everyone?</span>
          <button
            type="button"
            class="danger"
            onClick={() => run(client.request("message:delete", { messageId: message.id }))}
          >
            Delete
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Keep
          </button>
        </fieldset>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}

function Reactions({
  message,
  onToggle,
}: {
  message: Message;
  onToggle: (emoji: string, on: boolean) => void;
}) {
  const state = useClient().state;
  const me = state.me?.id ?? "";
  const entries = Object.entries(message.reactions);
  if (entries.length === 0 || message.deleted) return null;
  return (
    <div class="reactions">
      {entries.map(([emoji, users]) => {
        const names = users.map((id) => (id === me ? "you" : (state.userName(id) ?? "someone"))).join(", ");
        const pressed = users.includes(me);
        return (
          <button
            type="button"
            key={emoji}
            class="reaction"
            aria-pressed={pressed}
            title={names}
            aria-label={`${emoji} ${users.length}, from ${names}`}
            onClick={() => onToggle(emoji, !pressed)}
          >
            {emoji} {users.length}
          </button>
        );
      })}
    </div>
  );
}
