/**
 * The signed-in screen: the chat list beside the open chat on wide screens; one or the other on
 * a phone, with a back button. Dialogs for new chats, new groups and group settings.
 */
import { useEffect, useState } from "preact/hooks";
import { tellHostUnread } from "../auth.js";
import { useChatState, useClient } from "../hooks.js";
import { dropFromFragment, roomFromLink } from "../links.js";
import { learnLogin } from "../mentions.js";
import { shouldOfferNotifications, watchForNotifications } from "../notify.js";
import { watchNotificationClicks, watchVisibility } from "../push.js";
import { Banner } from "./Banner.js";
import { GroupSettingsDialog } from "./GroupSettings.js";
import { NewChatDialog } from "./NewChat.js";
import { NewGroupDialog } from "./NewGroup.js";
import { RoomList } from "./RoomList.js";
import { RoomView } from "./RoomView.js";
import { SearchPanel } from "./Search.js";
import { NotificationsButton, SettingsDialog } from "./Settings.js";

type DialogName = "new-chat" | "new-group" | "group-settings" | "settings" | null;

export function App({ onSignOut }: { onSignOut: (() => void) | null }) {
  const state = useChatState();
  const client = useClient();
  const [ready, setReady] = useState(false);
  const [openId, setOpenId] = useState<string | null>(null);
  const [highlightId, setHighlightId] = useState<string | null>(null);
  const [searching, setSearching] = useState(false);
  const [dialog, setDialog] = useState<DialogName>(null);

  useEffect(() => {
    client.ready(60_000).then(
      () => setReady(true),
      () => setReady(true),
    );
  }, [client]);

  // the offer to turn on desktop notifications waits until the person has sent a message here
  const [offer, setOffer] = useState(false);
  useEffect(() => {
    const stopWatching = watchForNotifications(client, (roomId) => open(roomId));
    // Web Push: the server pushes only while no tab of mine is on screen
    const stopVisibility = watchVisibility(client);
    const stopClicks = watchNotificationClicks((roomId) => open(roomId));
    const stopOffer = client.on("message:new", (m) => {
      if (m.senderId === client.state.me?.id && shouldOfferNotifications()) setOffer(true);
    });
    return () => {
      stopWatching();
      stopOffer();
      stopVisibility();
      stopClicks();
    };
  }, [client]);
  const me = state.me;
  if (me) learnLogin(me.id, me.login);

  const open = (roomId: string, messageId: string | null = null) => {
    setOpenId(roomId);
    setHighlightId(messageId);
    setSearching(false);
    setDialog(null);
  };
  const openRoom = openId ? state.room(openId) : undefined;

  // a link to a room (`#room=<id>`, from a digest mail or a notification): on load, and when the
  // fragment changes
  const [linked, setLinked] = useState<string | null>(roomFromLink);
  const [linkProblem, setLinkProblem] = useState(false);
  useEffect(() => {
    const onHash = () => setLinked(roomFromLink());
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);
  useEffect(() => {
    if (!linked || !ready) return;
    setLinked(null);
    dropFromFragment("room");
    // a room beyond the loaded list pages is fetched; one I am not in stays closed
    const known = state.room(linked) ? Promise.resolve() : client.refreshRoom(linked);
    void known.then(() => {
      if (client.state.room(linked)) {
        setLinkProblem(false);
        open(linked);
      } else {
        // not the room the link meant: show why instead
        setOpenId(null);
        setLinkProblem(true);
      }
    });
  }, [linked, ready]);
  // the open room went away (I left or was removed): back to the list
  useEffect(() => {
    if (openId && ready && !openRoom) setOpenId(null);
  }, [openId, openRoom, ready]);

  const unread = state.rooms().reduce((sum, r) => sum + r.unread, 0);
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) TimeWise Chat` : "TimeWise Chat";
    tellHostUnread(unread);
  }, [unread]);

  const showingMain = searching || openRoom !== undefined;
  return (
    <div class="app" data-view={showingMain ? "main" : "list"}>
      <Banner />
      <header class="topbar">
        <h1>TimeWise Chat</h1>
        <span class="grow me">
          {state.me && (
            <>
              Signed in as <bdi>{state.me.name}</bdi>
            </>
          )}
        </span>
        {offer && <NotificationsButton onDone={() => setOffer(false)} />}
        <button type="button" onClick={() => setDialog("settings")}>
          Settings
        </button>
        {onSignOut && (
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        )}
      </header>
      <div class="panes">
        <nav class="sidebar" aria-label="Chats">
          <div class="sidebar-actions">
            <button type="button" onClick={() => setDialog("new-chat")}>
              New chat
            </button>
            <button type="button" onClick={() => setDialog("new-group")}>
              New group
            </button>
            <button type="button" onClick={() => setSearching(true)} aria-pressed={searching}>
              Search
            </button>
          </div>
          <RoomList ready={ready} activeId={openId} onOpen={(id) => open(id)} />
        </nav>
        <main class="main">
          {searching ? (
            <SearchPanel onOpen={open} onClose={() => setSearching(false)} />
          ) : openRoom ? (
            <RoomView
              key={openRoom.id}
              roomId={openRoom.id}
              highlightId={highlightId}
              onBack={() => setOpenId(null)}
              onSettings={() => setDialog("group-settings")}
            />
          ) : (
            <div class="empty">
              {linkProblem && (
                <p role="alert">
                  That chat could not be opened: you may no longer be in it. Pick a chat from the list.
                </p>
              )}
              <p>Pick a chat from the list, or start a new one.</p>
            </div>
          )}
        </main>
      </div>
      {dialog === "new-chat" && <NewChatDialog onClose={() => setDialog(null)} onOpen={(id) => open(id)} />}
      {dialog === "new-group" && <NewGroupDialog onClose={() => setDialog(null)} onOpen={(id) => open(id)} />}
      {dialog === "settings" && <SettingsDialog onClose={() => setDialog(null)} />}
      {dialog === "group-settings" && openRoom && (
        <GroupSettingsDialog room={openRoom} onClose={() => setDialog(null)} />
      )}
    </div>
  );
}
