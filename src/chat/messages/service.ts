/**
 * Messages: sending (idempotent by clientId), history, catch-up by rev, edits, deletions,
 * reactions and search. Every broadcast happens after the change is durably stored. What a
 * caller gets back carries file links signed for them (deps.links); broadcasts get the message as
 * stored, and the fan-out signs per recipient.
 */
import { AppError, badRequest, forbidden, notFound } from "../../errors.js";
import { codePointLength, type Message, type Role } from "../../protocol/index.js";
import type { Actor } from "../../shared/actor.js";
import { Listeners } from "../../shared/listeners.js";
import type { HistoryQuery, MentionSet } from "../../storage/chat-store.js";
import { NO_MENTIONS } from "../../storage/mentions.js";
import { type ChatDeps, listenerErrors, memberRole } from "../context.js";
import type { FileBytes } from "../files/bytes.js";
import { mentionCandidates, needsLogins, resolveMentions } from "./mentions.js";
import { SYSTEM_SENDER } from "./system.js";

export interface SendRequest {
  roomId: string;
  body: string;
  clientId: string;
  replyToId?: string | null | undefined;
  /** files from `POST /api/files` to attach: the sender's own, not attached yet */
  fileIds?: readonly string[] | undefined;
  /** (v2.4) notify every member at once (an owner or admin of a group, or the server API) */
  urgent?: boolean | undefined;
}

/**
 * (v2.3) Who a message newly mentions: on a send everyone it mentions, on an edit only those the
 * previous version did not (an edit that removes a mention takes nothing back).
 */
export interface NewMentions {
  userIds: string[];
  /** `@all`/`@here` is new in this version */
  all: boolean;
  via: "send" | "edit";
}

export class MessageService {
  /** Hears every new message once it is stored (metrics, webhooks). */
  readonly onSent: Listeners<[message: Message]>;
  /**
   * (v2.3) Hears of mentions once they are stored and broadcast: the hook notifications use, so
   * a mention an edit adds notifies too. Not called when nobody new is mentioned.
   */
  readonly onMentioned: Listeners<[message: Message, mentioned: NewMentions]>;
  /**
   * (v2.4) Hears of every new urgent message once it is stored, recorded and broadcast: where
   * the at-once notifications hang (src/chat/hours/urgent.ts).
   */
  readonly onUrgent: Listeners<[message: Message]>;

  constructor(
    private readonly deps: ChatDeps,
    /** removes the bytes of a deleted message's files (none in tests that have no file store) */
    private readonly fileBytes?: Pick<FileBytes, "remove">,
  ) {
    this.onSent = new Listeners(listenerErrors(deps, "onSent"));
    this.onMentioned = new Listeners(listenerErrors(deps, "onMentioned"));
    this.onUrgent = new Listeners(listenerErrors(deps, "onUrgent"));
  }

  /**
   * The store checks that the actor is a member with the write itself (one round trip, not two).
   * An urgent send first checks the actor's role: the only extra read, and only for urgent ones.
   */
  async send(actor: Actor, input: SendRequest, via: "socket" | "server" = "socket"): Promise<Message> {
    if (input.urgent && via === "socket") await this.mayUrgent(actor, input.roomId);
    return this.deps.links.message(await this.deliver(actor.id, input, true), actor.id);
  }

  /** (v2.4) Urgent messages are for the owner and admins of a group (else FORBIDDEN). */
  private async mayUrgent(actor: Actor, roomId: string): Promise<void> {
    const role = await memberRole(this.deps, actor, roomId);
    const room = await this.deps.store.room(roomId);
    if (room?.type !== "group" || role === "member") {
      throw forbidden("Only the owner or an admin of a group can send an urgent message.");
    }
  }

  /** Posts as the TimeWise app itself (SYSTEM_SENDER), into any open room: the server API only. */
  async sendAsSystem(input: SendRequest): Promise<Message> {
    if (!(await this.deps.store.room(input.roomId))) throw notFound();
    // links in the answer are for the PHP back end, which acts as the system user
    return this.deps.links.message(await this.deliver(SYSTEM_SENDER.id, input, false), SYSTEM_SENDER.id);
  }

  private async deliver(senderId: string, input: SendRequest, requireMember: boolean): Promise<Message> {
    const fileIds = input.fileIds ?? [];
    // a photo needs no words: the body may be blank when files come with it
    this.checkBody(input.body, fileIds.length > 0);
    const { message, created } = await this.deps.store.sendMessage({
      roomId: input.roomId,
      senderId,
      body: input.body,
      clientId: input.clientId,
      replyToId: input.replyToId ?? null,
      fileIds,
      mentions: await this.mentionsIn(input.roomId, input.body),
      at: this.deps.now(),
      requireMember,
    });
    if (created) {
      if (input.urgent) await this.recordUrgent(message);
      this.deps.fanout.messageNew(message);
      this.onSent.emit(message);
      if (input.urgent) this.onUrgent.emit(message);
      if (message.mentions.length > 0 || message.mentionsAll) {
        this.onMentioned.emit(message, { userIds: message.mentions, all: message.mentionsAll, via: "send" });
      }
    }
    return message;
  }

  /**
   * (v2.4) Kept in the urgent list and the audit log before the ack, right after the message's
   * own write (a separate write: the send itself stays as it is for every other message).
   */
  private async recordUrgent(message: Message): Promise<void> {
    const at = this.deps.now();
    await this.deps.store.recordUrgent({
      messageId: message.id,
      roomId: message.roomId,
      senderId: message.senderId,
      at,
    });
    await this.deps.store.appendAudit({
      at,
      action: "messages.urgent",
      target: `room:${message.roomId}`,
      details: { messageId: message.id, senderId: message.senderId },
    });
  }

  async history(
    actor: Actor,
    roomId: string,
    query: HistoryQuery,
  ): Promise<{ messages: Message[]; hasMore: boolean }> {
    await memberRole(this.deps, actor, roomId);
    const page = await this.deps.store.history(roomId, query);
    return { ...page, messages: this.deps.links.messages(page.messages, actor.id) };
  }

  async changes(actor: Actor, roomId: string, sinceRev: number, limit: number) {
    await memberRole(this.deps, actor, roomId);
    const page = await this.deps.store.changes(roomId, sinceRev, limit);
    return { ...page, messages: this.deps.links.messages(page.messages, actor.id) };
  }

  async edit(actor: Actor, messageId: string, body: string): Promise<Message> {
    const { message } = await this.visibleMessage(actor, messageId);
    if (message.senderId !== actor.id) throw forbidden("You can only edit your own messages.");
    this.checkBody(body, message.files.length > 0);
    if (message.body === body && !message.deleted) return this.deps.links.message(message, actor.id);
    const mentions = await this.mentionsIn(message.roomId, body);
    const updated = await this.deps.store.editMessage(messageId, body, this.deps.now(), mentions);
    this.deps.fanout.messageUpdated(updated);
    const added = updated.mentions.filter((id) => !message.mentions.includes(id));
    const all = updated.mentionsAll && !message.mentionsAll;
    if (added.length > 0 || all) this.onMentioned.emit(updated, { userIds: added, all, via: "edit" });
    return this.deps.links.message(updated, actor.id);
  }

  /**
   * Who `body` mentions among the room's members now. Only a body with an `@` costs anything:
   * one read of the member ids (memory on SQLite, one query on PostgreSQL) and their logins from
   * the directory's cache.
   */
  private async mentionsIn(roomId: string, body: string): Promise<MentionSet> {
    const runs = mentionCandidates(body);
    if (runs.length === 0) return NO_MENTIONS;
    const targets = await this.deps.store.mentionTargets(roomId);
    if (!targets) return NO_MENTIONS; // the store answers NOT_FOUND for the send itself
    const members = needsLogins(runs, targets.type)
      ? (await this.deps.directory.findByIds(targets.memberIds)).values()
      : [];
    return resolveMentions(runs, targets.type, members);
  }

  async delete(actor: Actor, messageId: string): Promise<Message> {
    const { message, role } = await this.visibleMessage(actor, messageId);
    if (message.senderId !== actor.id) {
      if (role !== "owner" && role !== "admin") {
        throw forbidden("Only the sender, or the room's owner or an admin, can delete this message.");
      }
    }
    const {
      message: deleted,
      changed,
      fileKeys,
    } = await this.deps.store.deleteMessage(messageId, this.deps.now());
    if (changed) this.deps.fanout.messageDeleted(deleted);
    // the records (and the quota they took) went with the message; the bytes go now that it is
    // committed, and whatever fails here is left to the clean-up job
    if (fileKeys.length > 0) await this.fileBytes?.remove(fileKeys, "message_deleted");
    return this.deps.links.message(deleted, actor.id);
  }

  async react(actor: Actor, messageId: string, emoji: string, on: boolean): Promise<Message> {
    await this.visibleMessage(actor, messageId);
    const { message, changed } = await this.deps.store.react(messageId, actor.id, emoji, on);
    if (changed) this.deps.fanout.messageUpdated(message);
    return this.deps.links.message(message, actor.id);
  }

  async search(actor: Actor, query: string, roomId: string | undefined, limit: number): Promise<Message[]> {
    if (roomId !== undefined) await memberRole(this.deps, actor, roomId);
    const roomIds = roomId === undefined ? [...(await this.deps.store.roomIdsOf(actor.id))] : [roomId];
    return this.deps.links.messages(await this.deps.store.search(roomIds, query, limit), actor.id);
  }

  /** The message and the actor's role in its room, when they are a member; else NOT_FOUND. */
  private async visibleMessage(actor: Actor, messageId: string): Promise<{ message: Message; role: Role }> {
    const message = await this.deps.store.message(messageId);
    const role = message && (await this.deps.store.membership(message.roomId, actor.id));
    if (!message || role === undefined) throw notFound("message");
    return { message, role };
  }

  /** `withFiles`: the message carries files, so a blank body is fine. */
  private checkBody(body: string, withFiles: boolean): void {
    if (body.trim().length === 0 && !withFiles) throw badRequest("Write something before sending.");
    const max = this.deps.config.maxMessageLength;
    if (codePointLength(body) > max) {
      throw new AppError("PAYLOAD_TOO_LARGE", `A message can be at most ${max} characters long.`, { max });
    }
  }
}
