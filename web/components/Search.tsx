/** Search my messages in every room; a result opens its room at that message. */
import { useEffect, useState } from "preact/hooks";
import type { Message } from "../../src/sdk/index.js";
import { preview, roomTitle, shortWhen } from "../format.js";
import { describeError, useClient, useFocusOnMount } from "../hooks.js";

export function SearchPanel({
  onOpen,
  onClose,
}: {
  onOpen: (roomId: string, messageId: string) => void;
  onClose: () => void;
}) {
  const client = useClient();
  const state = client.state;
  const [query, setQuery] = useState("");
  const [results, setResults] = useState<Message[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const input = useFocusOnMount<HTMLInputElement>();

  useEffect(() => {
    const q = query.trim();
    if (q === "") {
      setResults(null);
      return;
    }
    let current = true;
    const timer = setTimeout(() => {
      client.request("message:search", { query: q, limit: 50 }).then(
        (r) => {
          if (!current) return;
          setResults(r.messages);
          setError(null);
        },
        (e: unknown) => {
          if (current) setError(describeError(e));
        },
      );
    }, 250);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [query, client]);

  return (
    <section class="search-panel" aria-labelledby="search-title">
      <header class="room-header">
        <button type="button" class="back" onClick={onClose} aria-label="Back to chats">
          ←
        </button>
        <h2 id="search-title" class="grow">
          Search messages
        </h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </header>
      <div class="search-body">
        <label class="field">
          <span>Words to find</span>
          <input type="search" ref={input} value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <p class="sr-only" aria-live="polite">
          {results && `${results.length} ${results.length === 1 ? "message" : "messages"} found`}
        </p>
        {results && results.length === 0 && <p class="hint">No messages found.</p>}
        <ul class="search-results" aria-label="Messages found">
          {results?.map((m) => {
            const room = state.room(m.roomId);
            const sender = m.senderId === state.me?.id ? "You" : (state.userName(m.senderId) ?? "Someone");
            return (
              <li key={m.id}>
                <button type="button" class="search-result" onClick={() => onOpen(m.roomId, m.id)}>
                  <span class="room-line">
                    <strong>
                      <bdi>{room ? roomTitle(room, state.me?.id) : "A chat"}</bdi>
                    </strong>
                    <time dateTime={m.createdAt}>{shortWhen(m.createdAt)}</time>
                  </span>
                  <span class="room-preview">
                    <bdi>{sender}</bdi>: <bdi>{preview(m.body, m.deleted, m.files)}</bdi>
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      </div>
    </section>
  );
}
