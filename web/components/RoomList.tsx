/** The list of chats: newest activity first, with the last message, its time and unread badges. */
import { useEffect, useState } from "preact/hooks";
import type { Room } from "../../src/sdk/index.js";
import { directPeer, preview, roomTitle, shortWhen } from "../format.js";
import { useClient } from "../hooks.js";
import { type ListFilter, passesFilter } from "../records.js";

const FILTERS: { value: ListFilter; label: string }[] = [
  { value: "all", label: "All" },
  { value: "records", label: "On records" },
  { value: "others", label: "Other chats" },
];

const RENDERED_MARK = "twc:rooms-rendered";

export function RoomList({
  ready,
  activeId,
  onOpen,
}: {
  ready: boolean;
  activeId: string | null;
  onOpen: (roomId: string) => void;
}) {
  const state = useClient().state;
  const all = state.rooms();
  const [chosen, setFilter] = useState<ListFilter>("all");
  // the filter shows only to people who have chats on TimeWise records
  const hasRecords = all.some((room) => room.record != null);
  const filter = hasRecords ? chosen : "all";
  const rooms = all.filter((room) => passesFilter(room, filter));
  const shown = ready || all.length > 0;
  // when the chat list first showed, for the "under a second" check in the browser tests
  useEffect(() => {
    if (shown && performance.getEntriesByName(RENDERED_MARK).length === 0) performance.mark(RENDERED_MARK);
  }, [shown]);
  if (!shown) return <p class="hint">Loading your chats…</p>;
  if (all.length === 0) return <p class="hint">No chats yet. Start one with “New chat”.</p>;
  return (
    <>
      {hasRecords && (
        <fieldset class="list-filter">
          <legend class="sr-only">Show</legend>
          {FILTERS.map((f) => (
            <button
              key={f.value}
              type="button"
              aria-pressed={filter === f.value}
              onClick={() => setFilter(f.value)}
            >
              {f.label}
            </button>
          ))}
        </fieldset>
      )}
      {rooms.length === 0 ? (
        <p class="hint">No chats here.</p>
      ) : (
        <ul class="room-list" aria-label="Your chats">
          {rooms.map((room) => (
            <li key={room.id}>
              <RoomItem room={room} active={room.id === activeId} onOpen={onOpen} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function RoomItem({ room, active, onOpen }: { room: Room; active: boolean; onOpen: (id: string) => void }) {
  const state = useClient().state;
  const me = state.me?.id;
  const title = roomTitle(room, me);
  const peer = directPeer(room, me);
  const online = peer ? state.presence(peer)?.online === true : false;
  const last = room.lastMessage;
  // the sender's name: "You" for my own messages; for others only in groups
  const who =
    last && (last.senderId === me || room.type === "group")
      ? last.senderId === me
        ? "You"
        : (state.userName(last.senderId) ?? "")
      : null;
  return (
    <button
      type="button"
      class={`room-item${active ? " active" : ""}`}
      aria-current={active ? "true" : undefined}
      onClick={() => onOpen(room.id)}
    >
      <span class="avatar" aria-hidden="true">
        {initials(title)}
        {peer && <span class={`dot${online ? " online" : ""}`} />}
      </span>
      <span class="room-main">
        <span class="room-line">
          <bdi class="room-name">{title}</bdi>
          {peer && <span class="sr-only">{online ? " (online)" : " (offline)"}</span>}
          {last && <time dateTime={last.createdAt}>{shortWhen(last.createdAt)}</time>}
        </span>
        <span class="room-line">
          <span class="room-preview">
            {last ? (
              // each name and body in its own bidi island: right-to-left text or a stray direction
              // mark in one cannot reorder the rest of the line
              <>
                {who !== null && (
                  <>
                    <bdi>{who}</bdi>:{" "}
                  </>
                )}
                <bdi>{preview(last.body, last.deleted, last.files)}</bdi>
              </>
            ) : (
              "No messages yet"
            )}
          </span>
          {room.mentions > 0 && (
            <span class="badge mention-badge" title="Mentions of you">
              @{room.mentions > 1 ? (room.mentions > 99 ? "99+" : room.mentions) : ""}
              <span class="sr-only">{room.mentions === 1 ? " mention" : " mentions"}</span>
            </span>
          )}
          {room.unread > 0 && (
            <span class="badge">
              {room.unread > 99 ? "99+" : room.unread}
              <span class="sr-only"> unread</span>
            </span>
          )}
        </span>
      </span>
    </button>
  );
}

function initials(name: string): string {
  const letters = name
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => [...w][0] ?? "");
  return (letters[0] ?? "?") + (letters.length > 1 ? (letters[letters.length - 1] ?? "") : "");
}
