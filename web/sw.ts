/**
 * The TimeWise Chat service worker, served as /sw.js (and by the PHP kit from the PHP app's own
 * origin). It shows each Web Push as a notification, one per room (a newer message replaces the
 * older), and a click focuses an open chat tab at that room, or opens one.
 *
 * Registered with `?page=/path/of/the/chat/page` (or served by the PHP kit with its `page` option),
 * a click opens that page (on the worker's origin) instead of the address in the push: what a PHP
 * app that embeds the chat wants.
 */

/** What the server pushes (src/push/sender.ts `PushPayload`). */
interface Pushed {
  roomId: string;
  messageId: string;
  title: string;
  body: string;
  url: string;
}

// The few service worker types used here: the web app's tsconfig has the DOM library, not the
// WebWorker one (both at once conflict), so they are spelled out.
interface WindowClientLike {
  url: string;
  focus(): Promise<unknown>;
  postMessage(message: unknown): void;
}
interface WorkerScope {
  location: Location;
  registration: { showNotification(title: string, options: NotificationOptions): Promise<void> };
  clients: {
    matchAll(options: { type: "window"; includeUncontrolled: boolean }): Promise<WindowClientLike[]>;
    openWindow(url: string): Promise<unknown>;
    claim(): Promise<void>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: string, listener: (event: WorkerEvent) => void): void;
}
interface WorkerEvent {
  waitUntil(work: Promise<unknown>): void;
  data?: { json(): unknown } | null;
  notification?: Notification & { data?: unknown };
}

const scope = self as unknown as WorkerScope;
// the PHP kit may put the page in front of the script instead (serviceWorkerScript's `page`)
const page =
  new URL(scope.location.href).searchParams.get("page") ??
  (self as unknown as { __twcPage?: unknown }).__twcPage?.toString() ??
  null;

function isPushed(value: unknown): value is Pushed {
  const v = value as Partial<Pushed> | null;
  return typeof v?.roomId === "string" && typeof v.title === "string" && typeof v.body === "string";
}

/** Where a click goes: the embedding page when one was named, else the chat's own address. */
function target(pushed: Pushed): string {
  const room = `#room=${encodeURIComponent(pushed.roomId)}`;
  if (page) return new URL(`${page.split("#")[0]}${room}`, scope.location.origin).href;
  return new URL(pushed.url || `/${room}`, scope.location.origin).href;
}

scope.addEventListener("install", (event) => event.waitUntil(scope.skipWaiting()));
scope.addEventListener("activate", (event) => event.waitUntil(scope.clients.claim()));

scope.addEventListener("push", (event) => {
  let pushed: unknown = null;
  try {
    pushed = event.data?.json() ?? null;
  } catch {
    pushed = null;
  }
  // browsers require a visible notification for every push
  const shown = isPushed(pushed)
    ? scope.registration.showNotification(pushed.title, {
        body: pushed.body,
        tag: `room-${pushed.roomId}`,
        data: pushed,
      })
    : scope.registration.showNotification("TimeWise Chat", { body: "You have a new message." });
  event.waitUntil(shown);
});

scope.addEventListener("notificationclick", (event) => {
  const notification = event.notification;
  notification?.close();
  const pushed = notification?.data;
  if (!isPushed(pushed)) return;
  const url = target(pushed);
  event.waitUntil(
    (async () => {
      const wanted = new URL(url);
      const tabs = await scope.clients.matchAll({ type: "window", includeUncontrolled: true });
      const open = tabs.find((tab) => {
        const at = new URL(tab.url);
        return at.origin === wanted.origin && at.pathname === wanted.pathname;
      });
      if (open) {
        await open.focus();
        open.postMessage({ type: "twc:open-room", roomId: pushed.roomId });
        return;
      }
      await scope.clients.openWindow(url);
    })(),
  );
});
