/**
 * Writing: Enter sends, Shift+Enter starts a new line, Escape cancels a reply or an edit. Sending
 * never waits for the network: the message goes to the outbox and shows at once. Files come in
 * through the attach button or by pasting (dropping them is handled by the room's view); they
 * upload at once and go with the message once uploaded.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Message } from "../../src/sdk/index.js";
import type { Attachments } from "../attachments.js";
import { preview } from "../format.js";
import { describeError, useClient } from "../hooks.js";
import { AttachmentList } from "./AttachmentList.js";

export function Composer({
  roomId,
  replyTo,
  editing,
  attachments,
  onDone,
}: {
  roomId: string;
  replyTo: Message | null;
  editing: Message | null;
  attachments: Attachments;
  onDone: () => void;
}) {
  const client = useClient();
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const fileIds = editing ? [] : attachments.readyIds();
  // files still on their way hold the message back: it would otherwise go without them
  const canSend = !(attachments.uploading && !editing) && (text.trim() !== "" || fileIds.length > 0);

  useEffect(() => {
    if (editing) setText(editing.body);
    if (editing || replyTo) input.current?.focus();
  }, [editing, replyTo]);

  const submit = () => {
    const body = text.trim();
    if (!canSend) return;
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
    client.send(roomId, body, { replyToId: replyTo?.id ?? null, fileIds }).catch(() => undefined);
    attachments.clear();
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
              : `Replying to ${who}: ${preview(replyTo?.body ?? "", false, replyTo?.files).slice(0, 80)}`}
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
      {!editing && <AttachmentList attachments={attachments} />}
      {!editing && attachments.uploading && (
        <p class="hint" aria-live="polite">
          The message can be sent once the files are uploaded.
        </p>
      )}
      <div class="composer-row">
        {!editing && (
          <>
            <button
              type="button"
              class="attach"
              aria-label="Attach files"
              title="Attach files"
              onClick={() => picker.current?.click()}
            >
              📎
            </button>
            <input
              ref={picker}
              type="file"
              multiple
              hidden
              aria-label="Files to attach"
              onChange={(e) => {
                const files = e.currentTarget.files;
                if (files) attachments.add(files);
                e.currentTarget.value = ""; // the same file can be picked again
              }}
            />
          </>
        )}
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
          onPaste={(e) => {
            const files = e.clipboardData?.files;
            if (editing || !files || files.length === 0) return;
            attachments.add(files);
            // a pasted screenshot is only a file; text that comes along (from a document) is pasted too
            if (!e.clipboardData?.types.includes("text/plain")) e.preventDefault();
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
        <button type="submit" class="primary" disabled={!canSend}>
          {editing ? "Save" : "Send"}
        </button>
      </div>
    </form>
  );
}
