/**
 * Writing: Enter sends, Shift+Enter starts a new line, Escape cancels a reply or an edit. Sending
 * never waits for the network: the message goes to the outbox and shows at once.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Message } from "../../src/sdk/index.js";
import { preview } from "../format.js";
import { describeError, useClient } from "../hooks.js";

export function Composer({
  roomId,
  replyTo,
  editing,
  onDone,
}: {
  roomId: string;
  replyTo: Message | null;
  editing: Message | null;
  onDone: () => void;
}) {
  const client = useClient();
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (editing) setText(editing.body);
    if (editing || replyTo) input.current?.focus();
  }, [editing, replyTo]);

  const submit = () => {
    const body = text.trim();
    if (body === "") return;
    setError(null);
    if (editing) {
      client.request("message:edit", { messageId: editing.id, body }).then(
        () => {
          setText("");
          onDone();
        },
        (e: unknown) => setError(describeError(e)),
      );
      return;
    }
    // a refusal shows on the message itself ("Not sent"), with Try again and Delete
    client.send(roomId, body, { replyToId: replyTo?.id ?? null }).catch(() => undefined);
    setText("");
    onDone();
  };

  const cancel = () => {
    if (editing) setText("");
    onDone();
  };

  const who =
    replyTo &&
    (replyTo.senderId === client.state.me?.id ? "yourself" : client.state.userName(replyTo.senderId));
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {(editing || replyTo) && (
        <div class="composer-context">
          <span class="grow">
            {editing
              ? "Editing your message"
              : `Replying to ${who}: ${preview(replyTo?.body ?? "", false).slice(0, 80)}`}
          </span>
          <button type="button" onClick={cancel}>
            Cancel
          </button>
        </div>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="composer-row">
        <label for="composer-input" class="sr-only">
          Message
        </label>
        <textarea
          id="composer-input"
          ref={input}
          rows={1}
          placeholder="Write a message"
          value={text}
          onInput={(e) => {
            const value = e.currentTarget.value;
            setText(value);
            if (!editing) client.typing(roomId, value.trim() !== "");
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              submit();
            } else if (e.key === "Escape" && (editing || replyTo)) {
              e.preventDefault();
              cancel();
            }
          }}
        />
        <button type="submit" class="primary" disabled={text.trim() === ""}>
          {editing ? "Save" : "Send"}
        </button>
      </div>
    </form>
  );
}
