/**
 * "Settings": the person's own notification choices. Email digests and push are kept by the
 * server (user:prefs:set), the sound and desktop notifications by this browser.
 */
import { useEffect, useState } from "preact/hooks";
import type { NotifyLevel, Room, UserPrefs } from "../../src/sdk/index.js";
import { describeError, useClient } from "../hooks.js";
import { askForNotifications, setSound, shouldOfferNotifications, soundOn } from "../notify.js";
import { pushOnHere, pushSupported, turnPushOff, turnPushOn } from "../push.js";
import { Dialog } from "./Dialog.js";

export function SettingsDialog({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const [prefs, setPrefs] = useState<UserPrefs | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sound, setSoundState] = useState(soundOn());
  useEffect(() => {
    client.request("user:prefs:get", {}).then(
      (r) => setPrefs(r.prefs),
      (e: unknown) => setError(describeError(e)),
    );
  }, [client]);
  const save = (change: Partial<UserPrefs>) =>
    client.request("user:prefs:set", change).then(
      (r) => {
        setPrefs(r.prefs);
        setError(null);
      },
      (e: unknown) => setError(describeError(e)),
    );
  return (
    <Dialog title="Settings" onClose={onClose}>
      <div class="settings-panel">
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {prefs ? (
          <>
            <label>
              <input
                type="checkbox"
                checked={prefs.email === "digest"}
                onChange={(e) => save({ email: e.currentTarget.checked ? "digest" : "off" })}
              />{" "}
              Email me about messages I missed
            </label>
            <label>
              Wait this many minutes before emailing{" "}
              <input
                type="number"
                min={1}
                max={1440}
                value={prefs.emailDelayMin}
                disabled={prefs.email === "off"}
                onChange={(e) => save({ emailDelayMin: Number(e.currentTarget.value) })}
              />
            </label>
            <label>
              <input
                type="checkbox"
                checked={prefs.push}
                onChange={(e) => save({ push: e.currentTarget.checked })}
              />{" "}
              Send notifications to my devices (push)
            </label>
            {prefs.push && pushSupported() && <ThisDevicePush />}
          </>
        ) : (
          !error && <p class="hint">Loading your settings…</p>
        )}
        <label>
          <input
            type="checkbox"
            checked={sound}
            onChange={(e) => {
              setSound(e.currentTarget.checked);
              setSoundState(e.currentTarget.checked);
            }}
          />{" "}
          Play a sound for new messages while this tab is in the background
        </label>
        {shouldOfferNotifications() && <NotificationsButton />}
        <button type="button" onClick={onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}

/** This browser's own push subscription: turned on only from here, by the person. */
function ThisDevicePush() {
  const client = useClient();
  const [on, setOn] = useState<boolean | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    pushOnHere().then(setOn, () => setOn(false));
  }, []);
  return (
    <>
      <label>
        <input
          type="checkbox"
          checked={on === true}
          disabled={on === null}
          onChange={(e) => {
            const wanted = e.currentTarget.checked;
            setOn(null);
            (wanted ? turnPushOn(client) : turnPushOff(client)).then(
              () => {
                setOn(wanted);
                setProblem(null);
              },
              (err: unknown) => {
                setOn(!wanted);
                setProblem(err instanceof Error ? err.message : describeError(err));
              },
            );
          }}
        />{" "}
        Show notifications on this device when the chat is closed
      </label>
      {problem && (
        <p class="error" role="alert">
          {problem}
        </p>
      )}
    </>
  );
}

/** The polite ask: only when the person presses it, and never again once answered. */
export function NotificationsButton({ onDone }: { onDone?: () => void }) {
  return (
    <button
      type="button"
      onClick={() => {
        askForNotifications().finally(() => onDone?.());
      }}
    >
      Turn on desktop notifications
    </button>
  );
}

const LEVELS: [NotifyLevel, string][] = [
  ["all", "Every message"],
  ["mentions", "Only when I'm mentioned"],
  ["none", "Never"],
];

/** The room's own setting (room:notify): which of its messages notify me. */
export function RoomNotify({ room }: { room: Room }) {
  const client = useClient();
  const [error, setError] = useState<string | null>(null);
  return (
    <label class="room-notify">
      Notify me:{" "}
      <select
        value={room.notify}
        onChange={(e) => {
          const notify = e.currentTarget.value as NotifyLevel;
          client.request("room:notify", { roomId: room.id, notify }).then(
            () => setError(null),
            (err: unknown) => setError(describeError(err)),
          );
        }}
      >
        {LEVELS.map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
      {error && (
        <span class="error" role="alert">
          {" "}
          {error}
        </span>
      )}
    </label>
  );
}
