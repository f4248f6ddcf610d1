/**
 * (v2.3) Who a message notifies: the one place the contract's rule lives. Email digests, the
 * `notification` webhook and Web Push all ask here.
 */
import type { NotifyLevel } from "../../protocol/index.js";

/** What the rule needs of a message. */
export interface NotifyingMessage {
  senderId: string;
  mentions: readonly string[];
  mentionsAll: boolean;
}

/**
 * True when `message` notifies `userId`, whose setting for its room is `notify`: not their own,
 * and the room is `all`, or `mentions` and it mentions them or everyone. (Disabled users are
 * left out by the caller, which has the directory.)
 */
export function notifies(message: NotifyingMessage, userId: string, notify: NotifyLevel): boolean {
  if (message.senderId === userId) return false;
  if (notify === "all") return true;
  if (notify === "mentions") return message.mentionsAll || message.mentions.includes(userId);
  return false;
}
