/**
 * (v2.3) Who gets a Web Push for a message, and what it says. A new message (heard on the node
 * that stored it, so exactly once across nodes) and an edit that adds a mention are pushed to
 * every member it notifies (rules.ts, their room setting) who wants pushes (`push` pref), is
 * active in the directory, has no visible connected tab anywhere, and may be reached now
 * (availability). All of it runs after the send was acknowledged, never in its way.
 *
 * (v2.4) What was held from someone outside their working hours or in their quiet hours is not
 * lost: when the digest job finds it due at the start of their next working period (heard once
 * across nodes, `onDue`), they get one push that sums it up, if they still have no tab on screen.
 */

import type { NewMentions } from "../chat/messages/service.js";
import { SYSTEM_SENDER } from "../chat/messages/system.js";
import type { Availability } from "../chat/notifications/availability.js";
import { notifies } from "../chat/notifications/rules.js";
import type { Message } from "../protocol/index.js";
import type { AsyncChatStore } from "../storage/async-chat-store.js";
import type { DueMessage } from "../storage/chat-store.js";
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

  /**
   * Notifying messages newly due for `userId` (the digest job's `onDue`): those that came while
   * they could not be reached were never pushed, so one push now says how many there are.
   */
  due(userId: string, messages: readonly DueMessage[]): void {
    const run = this.release(userId, messages)
      .catch(this.deps.problem)
      .finally(() => this.pending.delete(run));
    this.pending.add(run);
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

  private async release(userId: string, messages: readonly DueMessage[]): Promise<void> {
    const { store, availability } = this.deps;
    const subscriptions = await store.pushSubscriptionsOf([userId]);
    if (subscriptions.length === 0 || (await store.userPrefs(userId)).push === false) return;
    // only what was held: the rest was pushed when it was sent (or was not to be pushed)
    const held: DueMessage[] = [];
    for (const m of messages) {
      const until = (await availability.heldUntil([userId], Date.parse(m.createdAt))).get(userId);
      if (until != null) held.push(m);
    }
    if (held.length === 0) return;
    if (!(await this.deps.directory.findByIds([userId])).get(userId)?.active) return;
    if ((await this.deps.visibility.visibleAmong([userId])).has(userId)) return;
    const latest = held[held.length - 1]!;
    const rooms = new Set(held.map((m) => m.roomId));
    const messagesText = held.length === 1 ? "1 new message" : `${held.length} new messages`;
    const body = rooms.size === 1 ? messagesText : `${messagesText} in ${rooms.size} chats`;
    const url =
      rooms.size === 1
        ? `${this.deps.publicUrl}/#room=${encodeURIComponent(latest.roomId)}`
        : `${this.deps.publicUrl}/`;
    this.deps.sender.deliver(
      subscriptions.map((s) => ({ endpoint: s.endpoint, keys: { p256dh: s.p256dh, auth: s.auth } })),
      { roomId: latest.roomId, messageId: latest.messageId, title: "While you were away", body, url },
    );
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
