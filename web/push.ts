/**
 * Web Push in the page: this browser subscribes once the person turns it on in Settings (never
 * on first load), unsubscribes when they turn it off, and tells the server whether the tab is on
 * screen, so no push arrives while they are looking at the chat.
 */
import type { ChatClient } from "../src/sdk/index.js";

/** The worker the chat serves (web/sw.ts). */
const WORKER = "/sw.js";

export function pushSupported(): boolean {
  return "serviceWorker" in navigator && "PushManager" in window && typeof Notification !== "undefined";
}

async function currentSubscription(): Promise<PushSubscription | null> {
  const registration = await navigator.serviceWorker.getRegistration(WORKER);
  return (await registration?.pushManager.getSubscription()) ?? null;
}

/** Whether this browser gets pushes for the signed-in person now. */
export async function pushOnHere(): Promise<boolean> {
  if (!pushSupported() || Notification.permission !== "granted") return false;
  return (await currentSubscription()) !== null;
}

/** Asks for permission if need be, subscribes this browser and tells the server. */
export async function turnPushOn(client: ChatClient): Promise<void> {
  if (Notification.permission === "default") await Notification.requestPermission();
  if (Notification.permission !== "granted") {
    throw new Error("Notifications are blocked for this site. Allow them in the browser's site settings.");
  }
  const registration = await navigator.serviceWorker.register(WORKER);
  await navigator.serviceWorker.ready;
  const subscription =
    (await registration.pushManager.getSubscription()) ??
    (await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: await client.pushKey(),
    }));
  await client.subscribePush(subscription.toJSON() as Parameters<ChatClient["subscribePush"]>[0]);
}

/** Stops pushes to this browser: on the server first, then the browser's own subscription. */
export async function turnPushOff(client: ChatClient): Promise<void> {
  const subscription = await currentSubscription();
  if (!subscription) return;
  await client.unsubscribePush(subscription.endpoint).catch(() => undefined);
  await subscription.unsubscribe();
}

/** Keeps the server told whether this tab is visible; returns the function that stops it. */
export function watchVisibility(client: ChatClient): () => void {
  const tell = () => client.setVisible(document.visibilityState === "visible");
  document.addEventListener("visibilitychange", tell);
  tell();
  return () => document.removeEventListener("visibilitychange", tell);
}

/** A click on a notification while the chat is open: the worker asks this tab to open the room. */
export function watchNotificationClicks(open: (roomId: string) => void): () => void {
  if (!("serviceWorker" in navigator)) return () => undefined;
  const onMessage = (event: MessageEvent) => {
    const data = event.data as { type?: unknown; roomId?: unknown } | null;
    if (data?.type === "twc:open-room" && typeof data.roomId === "string") open(data.roomId);
  };
  navigator.serviceWorker.addEventListener("message", onMessage);
  return () => navigator.serviceWorker.removeEventListener("message", onMessage);
}
