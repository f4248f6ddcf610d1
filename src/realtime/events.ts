/**
 * Every client→server event of the contract: its schema, its rate-limit bucket and the service
 * call it translates to. Handlers only translate; the services hold the rules.
 */
import type { MessageService } from "../chat/messages/service.js";
import type { PresenceService } from "../chat/presence/service.js";
import type { ReadService } from "../chat/reads/service.js";
import type { RoomService } from "../chat/rooms/service.js";
import type { TypingService } from "../chat/typing/service.js";
import type { UserService } from "../chat/users/service.js";
import * as P from "../protocol/payloads.js";
import { defineHandler } from "./handler.js";
import { sessionRefreshHandler } from "./session-refresh.js";

export interface Services {
  rooms: RoomService;
  messages: MessageService;
  reads: ReadService;
  typing: TypingService;
  presence: PresenceService;
  users: UserService;
  /** for `session:refresh` */
  sessions: Parameters<typeof sessionRefreshHandler>[0];
}

export function chatHandlers(s: Services) {
  return [
    defineHandler({
      event: "room:list",
      schema: P.roomList,
      limit: "reads",
      handle: (actor, p) => s.rooms.list(actor, p),
    }),
    defineHandler({
      event: "room:members",
      schema: P.roomMembers,
      limit: "reads",
      handle: (actor, p) => s.rooms.members(actor, p.roomId, p),
    }),
    defineHandler({
      event: "room:get",
      schema: P.roomRef,
      limit: "reads",
      handle: async (actor, p) => ({ room: await s.rooms.get(actor, p.roomId) }),
    }),
    defineHandler({
      event: "user:search",
      schema: P.userSearch,
      limit: "searches",
      handle: async (actor, p) => ({ users: await s.users.search(actor, p.query, p.limit ?? 20) }),
    }),
    defineHandler({
      event: "room:direct",
      schema: P.roomDirect,
      limit: "rooms",
      handle: async (actor, p) => ({ room: await s.rooms.direct(actor, p.userId) }),
    }),
    defineHandler({
      event: "room:create",
      schema: P.roomCreate,
      limit: "rooms",
      handle: async (actor, p) => ({ room: await s.rooms.create(actor, p.name, p.memberIds) }),
    }),
    defineHandler({
      event: "room:update",
      schema: P.roomUpdate,
      limit: "rooms",
      handle: async (actor, p) => ({ room: await s.rooms.rename(actor, p.roomId, p.name) }),
    }),
    defineHandler({
      event: "room:addMembers",
      schema: P.roomAddMembers,
      limit: "rooms",
      handle: async (actor, p) => ({ room: await s.rooms.addMembers(actor, p.roomId, p.userIds) }),
    }),
    defineHandler({
      event: "room:setRole",
      schema: P.roomSetRole,
      limit: "rooms",
      handle: async (actor, p) => ({ room: await s.rooms.setRole(actor, p.roomId, p.userId, p.role) }),
    }),
    defineHandler({
      event: "room:removeMember",
      schema: P.roomMember,
      limit: "rooms",
      handle: async (actor, p) => ({ room: await s.rooms.removeMember(actor, p.roomId, p.userId) }),
    }),
    defineHandler({
      event: "room:leave",
      schema: P.roomRef,
      limit: "rooms",
      handle: async (actor, p) => {
        await s.rooms.leave(actor, p.roomId);
        return {};
      },
    }),
    defineHandler({
      event: "message:send",
      schema: P.messageSend,
      limit: "messages",
      handle: async (actor, p) => ({ message: await s.messages.send(actor, p) }),
    }),
    defineHandler({
      event: "message:history",
      schema: P.messageHistory,
      limit: "reads",
      handle: (actor, p) =>
        s.messages.history(actor, p.roomId, {
          beforeSeq: p.beforeSeq,
          afterSeq: p.afterSeq,
          limit: p.limit ?? 50,
        }),
    }),
    defineHandler({
      event: "message:changes",
      schema: P.messageChanges,
      limit: "reads",
      handle: (actor, p) => s.messages.changes(actor, p.roomId, p.sinceRev, p.limit ?? 200),
    }),
    defineHandler({
      event: "message:edit",
      schema: P.messageEdit,
      limit: "messages",
      handle: async (actor, p) => ({ message: await s.messages.edit(actor, p.messageId, p.body) }),
    }),
    defineHandler({
      event: "message:delete",
      schema: P.messageRef,
      limit: "messages",
      handle: async (actor, p) => ({ message: await s.messages.delete(actor, p.messageId) }),
    }),
    defineHandler({
      event: "message:react",
      schema: P.messageReact,
      limit: "messages",
      handle: async (actor, p) => ({ message: await s.messages.react(actor, p.messageId, p.emoji, p.on) }),
    }),
    defineHandler({
      event: "message:search",
      schema: P.messageSearch,
      limit: "searches",
      handle: (actor, p) => ({ messages: s.messages.search(actor, p.query, p.roomId, p.limit ?? 20) }),
    }),
    defineHandler({
      event: "room:read",
      schema: P.roomRead,
      limit: "reads",
      handle: async (actor, p) => ({ readSeq: await s.reads.markRead(actor, p.roomId, p.seq) }),
    }),
    defineHandler({
      event: "typing",
      schema: P.typing,
      limit: "typing",
      handle: (actor, p) => {
        s.typing.set(actor, p.roomId, p.typing);
        return {};
      },
    }),
    defineHandler({
      event: "presence:get",
      schema: P.presenceGet,
      limit: "reads",
      handle: async (actor, p) => ({ presence: await s.presence.get(actor, p.userIds) }),
    }),
    sessionRefreshHandler(s.sessions),
  ];
}
