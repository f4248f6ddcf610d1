/**
 * Telling the person about messages while the tab is hidden: a desktop notification (only once
 * they turned them on, from a button, never asked on first load) and, if they chose it, a short
 * sound. Which messages notify follows the room's setting (all / mentions / none), as the server's
 * emails and pushes do. Choices are kept in localStorage.
 */
import type { ChatClient, Message } from "../src/sdk/index.js";
import { mentionsMe } from "./mentions.js";

const SOUND_KEY = "twc:sound";
const ASKED_KEY = "twc:notifications-asked";

export function soundOn(): boolean {
  return localStorage.getItem(SOUND_KEY) === "on";
}
export function setSound(on: boolean): void {
  localStorage.setItem(SOUND_KEY, on ? "on" : "off");
}

/** Whether to offer "Turn on desktop notifications": the browser can, and nobody answered yet. */
export function shouldOfferNotifications(): boolean {
  return (
    typeof Notification !== "undefined" &&
    Notification.permission === "default" &&
    localStorage.getItem(ASKED_KEY) !== "yes"
  );
}

export async function askForNotifications(): Promise<void> {
  localStorage.setItem(ASKED_KEY, "yes");
  await Notification.requestPermission();
}

/** Whether this message should notify me, by the room's setting. */
export function notifies(client: ChatClient, message: Message): boolean {
  const me = client.state.me?.id;
  if (!me || message.senderId === me || message.deleted) return false;
  const level = client.state.room(message.roomId)?.notify ?? "all";
  if (level === "none") return false;
  return level === "all" || mentionsMe(message, me);
}

/** Listens for new messages; returns the function that stops listening. */
export function watchForNotifications(client: ChatClient, focusRoom: (roomId: string) => void): () => void {
  return client.on("message:new", (message) => {
    if (document.visibilityState === "visible" || !notifies(client, message)) return;
    if (soundOn()) beep();
    if (typeof Notification === "undefined" || Notification.permission !== "granted") return;
    const sender = client.state.userName(message.senderId) ?? "Someone";
    const shown = new Notification(`${sender} on TimeWise Chat`, {
      body: message.body.slice(0, 140) || "Sent a file",
      tag: message.roomId, // one notification per room: a new message replaces the last one
    });
    shown.onclick = () => {
      window.focus();
      focusRoom(message.roomId);
      shown.close();
    };
  });
}

/** A short, quiet tone made on the spot: no sound file to download. */
function beep(): void {
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    gain.gain.value = 0.05;
    tone.frequency.value = 880;
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.15);
    tone.onended = () => void audio.close();
  } catch {
    // a browser without sound is fine: the notification is the main thing
  }
}
