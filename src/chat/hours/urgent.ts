/**
 * (v2.4) An urgent message notifies at once: every member but its sender gets the `notification`
 * webhook (and whatever else listens to due notifications) and, where they get email, a mail of
 * that one message, right away: past working hours, quiet hours, their email delay and their
 * room's notify setting. The digest job leaves urgent messages out (its due query skips them),
 * so nothing is notified twice. A mail the SMTP server refuses is logged, not tried again: the
 * webhook and the live message went out, and the urgent list keeps the record.
 */
import type { Message } from "../../protocol/index.js";
import type { Listeners } from "../../shared/listeners.js";
import type { AsyncChatStore } from "../../storage/async-chat-store.js";
import type { DueMessage } from "../../storage/chat-store.js";
import type { UserDirectory } from "../../users/types.js";
import { SYSTEM_SENDER } from "../messages/system.js";
import type { DueListener } from "../notifications/digests.js";
import type { SendMail } from "../notifications/mailer.js";

export interface UrgentDeps {
  store: Pick<AsyncChatStore, "room" | "userPrefs" | "userName">;
  directory: Pick<UserDirectory, "findByIds">;
  /** null: no email (SMTP_URL unset) */
  send: SendMail | null;
  publicUrl: string;
  onDue: Listeners<Parameters<DueListener>>;
  /** a mail that failed */
  problem: (error: unknown, userId: string) => void;
}

/** Notifies every member of the message's room but its sender, now. */
export async function notifyUrgent(deps: UrgentDeps, message: Message): Promise<void> {
  const room = await deps.store.room(message.roomId);
  if (!room) return;
  const recipients = [...room.members.keys()].filter((id) => id !== message.senderId);
  const users = await deps.directory.findByIds(recipients);
  const senderName =
    message.senderId === SYSTEM_SENDER.id
      ? SYSTEM_SENDER.name
      : ((await deps.store.userName(message.senderId)) ?? message.senderId);
  for (const userId of recipients) {
    const user = users.get(userId);
    if (!user?.active) continue;
    const due: DueMessage = {
      userId,
      roomId: message.roomId,
      messageId: message.id,
      seq: message.seq,
      senderId: message.senderId,
      body: message.body,
      createdAt: message.createdAt,
      mentions: message.mentions,
      mentionsAll: message.mentionsAll,
      notify: "all",
      email: null,
      emailDelayMin: null,
      lastDigestAt: null,
    };
    deps.onDue.emit(userId, [due]);
    if (!deps.send || !user.email) continue;
    const email = (await deps.store.userPrefs(userId)).email ?? "digest";
    if (email === "off") continue;
    try {
      await deps.send({
        to: user.email,
        userName: user.name,
        lines: [
          {
            roomLabel:
              room.type === "group"
                ? `Urgent, ${room.name ?? "Group"}`
                : `Urgent, direct chat with ${senderName}`,
            senderName,
            createdAt: message.createdAt,
            body: message.body,
            link: `${deps.publicUrl}/#room=${encodeURIComponent(message.roomId)}`,
          },
        ],
        chatLink: `${deps.publicUrl}/`,
      });
    } catch (error) {
      deps.problem(error, userId);
    }
  }
}
