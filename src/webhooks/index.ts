/**
 * Feeds the webhook sender from the chat services' listener lists: every stored message, every presence
 * change and every room change. The hooks only queue; they never delay the services.
 */
import type { MessageService } from "../chat/messages/service.js";
import { SYSTEM_SENDER } from "../chat/messages/system.js";
import type { PresenceService } from "../chat/presence/service.js";
import type { RoomService } from "../chat/rooms/service.js";
import type { FileLinks } from "../files/links.js";
import type { WebhookSender } from "./sender.js";

export { DEFAULT_WEBHOOK_OPTIONS, type WebhookEvent, WebhookSender, type WebhookType } from "./sender.js";

export function connectWebhooks(
  sender: WebhookSender,
  services: { messages: MessageService; rooms: RoomService; presence: PresenceService },
  /** the PHP app reads files as the system user, as in the server API's answers */
  links: FileLinks,
): void {
  const { messages, rooms, presence } = services;
  const forApp = SYSTEM_SENDER.id;
  messages.onSent.add((message) =>
    sender.send("message.created", { message: links.message(message, forApp) }),
  );
  rooms.onUpdated.add((room, externalKey) =>
    sender.send("room.updated", { room: links.room(room, forApp), externalKey }),
  );
  presence.onChanged.add((userId, online, lastSeenAt) =>
    sender.send("presence.changed", { userId, online, lastSeenAt }),
  );
}
