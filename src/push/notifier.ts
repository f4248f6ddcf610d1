/**
 * (v2.3) Who gets a Web Push for a message, and what it says. A new message (heard on the node
 * that stored it, so exactly once across nodes) and an edit that adds a mention are pushed to
 * every member it notifies (rules.ts, their room setting) who wants pushes (`push` pref), is
 * active in the directory, has no visible connected tab anywhere, and may be reached now
 * (availability). All of it runs after the send was acknowledged, never in its way.
 */

import type { NewMentions } from "../chat/messages/service.js";
import { SYSTEM_SENDER } from "../chat/messages/system.js";
import type { Availability } from "../chat/notifications/availability.js";
import { notifies } from "../chat/notifications/rules.js";
import type { Message } from "../protocol/index.js";
import type { AsyncChatStore } from "../storage/async-chat-store.js";
import type { PushSubscriptionRecord } from "../storage/push.js";
import type { UserDirectory } from "../users/types.js";
import type { PushPayload, PushSender } from "./sender.js";

export interface PushNotifierDeps {
  store: Pick<
    AsyncChatStore,
    "mentionTargets" | "memberViews" | "userPrefs" | "pushSubscriptionsOf" | "room" | "userName"
  >;
  directory: Pick<UserDirectory, "findByIds">;
  visibility: { visibleAmong(userIds: readonly string[]): Promise<Set<string>> };
  availability: Availability;
  sender: Pick<PushSender, "deliver">;
  now: () => number;
  /** CHAT_PUBLIC_URL without a trailing slash; empty: links relative to the worker's origin */
  publicUrl: string;
  problem: (err: unknown) => void;
}

export class PushNotifier {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly deps: PushNotifierDeps) {}

  /** A new message: every member it notifies. */
  messageSent(message: Message): void {
    this.start(message, null);
  }

  /** An edit added mentions: the newly mentioned (everyone, for a new `@all`). */
  mentionsAdded(message: Message, mentioned: NewMentions): void {
    if (mentioned.via !== "edit") return; // a send's mentions were pushed with the message
    this.start(message, mentioned.all ? null : new Set(mentioned.userIds));
  }

  /** Resolves when every push decision started so far is made (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  private start(message: Message, only: Set<string> | null): void {
    const run = this.notify(message, only)
      .catch(this.deps.problem)
      .finally(() => this.pending.delete(run));
    this.pending.add(run);
  }

  private async notify(message: Message, only: Set<string> | null): Promise<void> {
    const { store } = this.deps;
    const targets = await store.mentionTargets(message.roomId);
    if (!targets) return;
    const candidates = targets.memberIds.filter(
      (id) => id !== message.senderId && (only === null || only.has(id)),
    );
    // most members have no browser subscribed: one read leaves them out before anything else
    const subscriptions = byUser(await store.pushSubscriptionsOf(candidates));
    if (subscriptions.size === 0) return;
    const wanted: string[] = [];
    for (const userId of subscriptions.keys()) {
      const view = (await store.memberViews(userId, [message.roomId])).get(message.roomId);
      if (!view || !notifies(message, userId, view.notify)) continue;
      if ((await store.userPrefs(userId)).push === false) continue;
      wanted.push(userId);
    }
    if (wanted.length === 0) return;
    const users = await this.deps.directory.findByIds(wanted);
    const visible = await this.deps.visibility.visibleAmong(wanted);
    const away = wanted.filter((id) => users.get(id)?.active && !visible.has(id));
    if (away.length === 0) return;
    const held = await this.deps.availability.heldUntil(away, this.deps.now());
    const reachable = away.filter((id) => (held.get(id) ?? null) === null);
    if (reachable.length === 0) return;
    const payload = await this.payload(message);
    for (const userId of reachable) {
      const targetsOfUser = (subscriptions.get(userId) ?? []).map((s) => ({
        endpoint: s.endpoint,
        keys: { p256dh: s.p256dh, auth: s.auth },
      }));
      this.deps.sender.deliver(targetsOfUser, payload);
    }
  }

  private async payload(message: Message): Promise<PushPayload> {
    const room = await this.deps.store.room(message.roomId);
    const sender =
      message.senderId === SYSTEM_SENDER.id
        ? SYSTEM_SENDER.name
        : (await this.deps.store.userName(message.senderId)) || "Someone";
    const title = room?.type === "group" && room.name ? `${sender} in ${room.name}` : sender;
    const text = message.body.trim();
    const body = text || (message.files.length > 0 ? "Sent a file" : "New message");
    const url = `${this.deps.publicUrl}/#room=${encodeURIComponent(message.roomId)}`;
    return { roomId: message.roomId, messageId: message.id, title, body, url };
  }
}

function byUser(records: readonly PushSubscriptionRecord[]): Map<string, PushSubscriptionRecord[]> {
  const map = new Map<string, PushSubscriptionRecord[]>();
  for (const r of records) {
    const list = map.get(r.userId);
    if (list) list.push(r);
    else map.set(r.userId, [r]);
  }
  return map;
}
