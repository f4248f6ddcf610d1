/**
 * Feeds the webhook sender from the chat services' listener lists: every stored message, every presence
 * change and every room change. The hooks only queue; they never delay the services.
 */
import type { MessageService } from "../chat/messages/service.js";
import type { PresenceService } from "../chat/presence/service.js";
import type { RoomService } from "../chat/rooms/service.js";
import type { WebhookSender } from "./sender.js";

export { DEFAULT_WEBHOOK_OPTIONS, type WebhookEvent, WebhookSender, type WebhookType } from "./sender.js";

export function connectWebhooks(
  sender: WebhookSender,
  services: { messages: MessageService; rooms: RoomService; presence: PresenceService },
): void {
  const { messages, rooms, presence } = services;
  messages.onSent.add((message) => sender.send("message.created", { message }));
  rooms.onUpdated.add((room, externalKey) => sender.send("room.updated", { room, externalKey }));
  presence.onChanged.add((userId, online, lastSeenAt) =>
    sender.send("presence.changed", { userId, online, lastSeenAt }),
  );
}
