/**
 * An open room: its header, the conversation, who is typing, and the composer. Files dropped
 * anywhere on it are attached to the message being written.
 */
import { useEffect, useState } from "preact/hooks";
import type { Message } from "../../src/sdk/index.js";
import { useAttachments } from "../attachments.js";
import { directPeer, nameList, presenceText, roomTitle } from "../format.js";
import { describeError, useClient } from "../hooks.js";
import { Composer } from "./Composer.js";
import { MessageList } from "./MessageList.js";
import { RecordLink } from "./RecordLink.js";
import { RoomNotify } from "./Settings.js";

/** Whether the page is in front of the person (a hidden tab must not mark messages read). */
function usePageVisible(): boolean {
  const [visible, setVisible] = useState(document.visibilityState === "visible");
  useEffect(() => {
    const update = () => setVisible(document.visibilityState === "visible");
    document.addEventListener("visibilitychange", update);
    return () => document.removeEventListener("visibilitychange", update);
  }, []);
  return visible;
}

export function RoomView({
  roomId,
  highlightId,
  onBack,
  onSettings,
}: {
  roomId: string;
  highlightId: string | null;
  onBack: () => void;
  onSettings: () => void;
}) {
  const client = useClient();
  const state = client.state;
  const room = state.room(roomId);
  const visible = usePageVisible();
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [editing, setEditing] = useState<Message | null>(null);
  const [error, setError] = useState<string | null>(null);
  const attachments = useAttachments();
  const [dropping, setDropping] = useState(false);

  useEffect(() => {
    client.openRoom(roomId).catch((e: unknown) => setError(describeError(e)));
  }, [client, roomId]);

  const unread = room ? room.unread > 0 || room.readSeq < room.lastSeq : false;
  useEffect(() => {
    if (visible && unread && client.status === "online") client.markRead(roomId).catch(() => undefined);
  }, [client, roomId, visible, unread, room?.lastSeq, client.status]);

  if (!room) return null;
  const me = state.me?.id;
  const title = roomTitle(room, me);
  const peer = directPeer(room, me);
  const typing = state.typing(roomId).map((id) => state.userName(id) ?? "Someone");
  // a room list may carry only the first members of a big group: memberCount is the real number
  const count = room.memberCount ?? room.members.length;
  const subtitle = peer
    ? presenceText(state, peer)
    : `${count} ${count === 1 ? "person" : "people"}: ${nameList(
        room.members.map((m) => (m.userId === me ? "you" : m.name)),
      )}`;

  // only dragged files count: dragged text is left to the text box
  const carriesFiles = (e: { dataTransfer: DataTransfer | null }) =>
    e.dataTransfer?.types.includes("Files") === true;
  return (
    <section
      class={`room-view${dropping ? " dropping" : ""}`}
      aria-labelledby="room-title"
      onDragOver={(e) => {
        if (!carriesFiles(e) || editing) return;
        e.preventDefault(); // this is what allows the drop
        if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
        setDropping(true);
      }}
      onDragLeave={(e) => {
        // leaving for a child of the view is not leaving the view
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDropping(false);
      }}
      onDrop={(e) => {
        setDropping(false);
        if (!carriesFiles(e) || editing) return;
        e.preventDefault();
        if (e.dataTransfer) attachments.add(e.dataTransfer.files);
      }}
    >
      {dropping && (
        <div class="drop-hint" aria-hidden="true">
          Drop files here to send them
        </div>
      )}
      <header class="room-header">
        <button type="button" class="back" onClick={onBack} aria-label="Back to chats">
          ←
        </button>
        <div class="grow">
          <h2 id="room-title">
            <bdi>{title}</bdi>
          </h2>
          {room.record && <RecordLink record={room.record} />}
          <p class="room-subtitle">{subtitle}</p>
          <RoomNotify room={room} />
        </div>
        {/* TimeWise runs a record's room: there is nothing for its members to rename or leave */}
        {room.type === "group" && !room.record && (
          <button type="button" onClick={onSettings}>
            Group settings
          </button>
        )}
      </header>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <MessageList
        roomId={roomId}
        highlightId={highlightId}
        onReply={(m) => {
          setEditing(null);
          setReplyTo(m);
        }}
        onEdit={(m) => {
          setReplyTo(null);
          setEditing(m);
        }}
      />
      <p class="typing" aria-live="polite">
        {typing.length > 0 && `${nameList(typing)} ${typing.length === 1 ? "is" : "are"} typing…`}
      </p>
      <Composer
        roomId={roomId}
        replyTo={replyTo}
        editing={editing}
        attachments={attachments}
        onDone={() => {
          setReplyTo(null);
          setEditing(null);
        }}
      />
    </section>
  );
}
