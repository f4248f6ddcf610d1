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
import { MentionList, type MentionOption, useMentionPicker } from "./MentionPicker.js";

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
  const [caret, setCaret] = useState(0);
  const mentions = useMentionPicker(roomId, text, caret);
  const putText = (next: { text: string; caret: number }) => {
    setText(next.text);
    setCaret(next.caret);
    // the caret goes after the inserted login once Preact has put the new text in the box
    requestAnimationFrame(() => input.current?.setSelectionRange(next.caret, next.caret));
  };
  const pick = (option: MentionOption) => {
    const next = mentions.choose(option);
    if (next) putText(next);
  };
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const fileIds = editing ? [] : attachments.readyIds();
  // files still on their way hold the message back: it would otherwise go without them
  const canSend = !(attachments.uploading && !editing) && (text.trim() !== "" || fileIds.length > 0);

  // the mention list pops up from the text box, which stays a textbox (aria-autocomplete and
  // aria-activedescendant are allowed there), set by hand as Preact's types don't list them
  // on a textarea
  const listOpen = mentions.open;
  const activeOption = mentions.active;
  useEffect(() => {
    const box = input.current;
    if (!box) return;
    box.setAttribute("aria-autocomplete", "list");
    if (listOpen) {
      box.setAttribute("aria-controls", "mention-list");
      box.setAttribute("aria-activedescendant", `mention-option-${activeOption}`);
    } else {
      box.removeAttribute("aria-controls");
      box.removeAttribute("aria-activedescendant");
    }
  }, [listOpen, activeOption]);

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
      {mentions.open && <MentionList options={mentions.options} active={mentions.active} onPick={pick} />}
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
          onKeyUp={(e) => setCaret(e.currentTarget.selectionStart)}
          onClick={(e) => setCaret(e.currentTarget.selectionStart)}
          onInput={(e) => {
            const value = e.currentTarget.value;
            setText(value);
            setCaret(e.currentTarget.selectionStart);
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
            const used = e.isComposing ? false : mentions.onKey(e.key);
            if (used !== false) {
              e.preventDefault();
              if (used !== true) putText(used);
              return;
            }
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
