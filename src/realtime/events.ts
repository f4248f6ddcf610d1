/**
 * Every client→server event of the contract: its rate-limit bucket and the service call it
 * translates to (its schema is in `REQUEST_SCHEMAS`, its answer type in `Requests`). Handlers only translate; the services hold the rules.
 */
import type { MessageService } from "../chat/messages/service.js";
import type { PrefsService } from "../chat/prefs/service.js";
import type { PresenceService } from "../chat/presence/service.js";
import type { VisibilityService } from "../chat/presence/visibility-service.js";
import type { ReadService } from "../chat/reads/service.js";
import type { RecordService } from "../chat/records/service.js";
import type { RoomService } from "../chat/rooms/service.js";
import type { TypingService } from "../chat/typing/service.js";
import type { UserService } from "../chat/users/service.js";
import type { HandlerTable } from "./handler.js";
import { inOrder } from "./in-order.js";
import { sessionRefreshHandler } from "./session-refresh.js";

export interface Services {
  rooms: RoomService;
  records: RecordService;
  messages: MessageService;
  reads: ReadService;
  typing: TypingService;
  presence: PresenceService;
  /** `presence:visibility`: whose tabs are visible, for Web Push */
  visibility: VisibilityService;
  users: UserService;
  prefs: PrefsService;
  /** for `session:refresh` */
  sessions: Parameters<typeof sessionRefreshHandler>[0];
}

/** The handler of every request event; the payload schemas are in `REQUEST_SCHEMAS`. */
export function chatHandlers(s: Services): HandlerTable {
  return {
    "room:list": {
      limit: "reads",
      handle: (actor, p) => s.rooms.list(actor, p),
    },
    "room:members": {
      limit: "reads",
      handle: (actor, p) => s.rooms.members(actor, p.roomId, p),
    },
    "room:get": {
      limit: "reads",
      handle: async (actor, p) => ({ room: await s.rooms.get(actor, p.roomId) }),
    },
    "room:record": {
      limit: "reads",
      handle: async (actor, p) => ({ room: await s.records.find(actor, p.kind, p.recordId) }),
    },
    "user:search": {
      limit: "searches",
      handle: async (actor, p) => ({ users: await s.users.search(actor, p.query, p.limit ?? 20) }),
    },
    "room:direct": {
      limit: "rooms",
      handle: async (actor, p) => ({ room: await s.rooms.direct(actor, p.userId) }),
    },
    "room:create": {
      limit: "rooms",
      handle: async (actor, p) => ({ room: await s.rooms.create(actor, p.name, p.memberIds) }),
    },
    "room:update": {
      limit: "rooms",
      handle: async (actor, p) => ({ room: await s.rooms.rename(actor, p.roomId, p.name) }),
    },
    "room:addMembers": {
      limit: "rooms",
      handle: async (actor, p) => ({ room: await s.rooms.addMembers(actor, p.roomId, p.userIds) }),
    },
    "room:setRole": {
      limit: "rooms",
      handle: async (actor, p) => ({ room: await s.rooms.setRole(actor, p.roomId, p.userId, p.role) }),
    },
    "room:removeMember": {
      limit: "rooms",
      handle: async (actor, p) => ({ room: await s.rooms.removeMember(actor, p.roomId, p.userId) }),
    },
    "room:leave": {
      limit: "rooms",
      handle: async (actor, p) => {
        await s.rooms.leave(actor, p.roomId);
        return {};
      },
    },
    "message:send": {
      limit: "messages",
      // one socket's messages to a room are stored in the order it sent them
      handle: async (actor, p, socket) => ({
        message: await inOrder(socket, p.roomId, () => s.messages.send(actor, p)),
      }),
    },
    "message:history": {
      limit: "reads",
      handle: (actor, p) =>
        s.messages.history(actor, p.roomId, {
          beforeSeq: p.beforeSeq,
          afterSeq: p.afterSeq,
          limit: p.limit ?? 50,
        }),
    },
    "message:changes": {
      limit: "reads",
      handle: (actor, p) => s.messages.changes(actor, p.roomId, p.sinceRev, p.limit ?? 200),
    },
    "message:edit": {
      limit: "messages",
      handle: async (actor, p) => ({ message: await s.messages.edit(actor, p.messageId, p.body) }),
    },
    "message:delete": {
      limit: "messages",
      handle: async (actor, p) => ({ message: await s.messages.delete(actor, p.messageId) }),
    },
    "message:react": {
      limit: "messages",
      handle: async (actor, p) => ({ message: await s.messages.react(actor, p.messageId, p.emoji, p.on) }),
    },
    "message:search": {
      limit: "searches",
      handle: async (actor, p) => ({
        messages: await s.messages.search(actor, p.query, p.roomId, p.limit ?? 20),
      }),
    },
    "room:read": {
      limit: "reads",
      handle: async (actor, p) => ({ readSeq: await s.reads.markRead(actor, p.roomId, p.seq) }),
    },
    typing: {
      limit: "typing",
      handle: async (actor, p) => {
        await s.typing.set(actor, p.roomId, p.typing);
        return {};
      },
    },
    "presence:get": {
      limit: "reads",
      handle: async (actor, p) => ({ presence: await s.presence.get(actor, p.userIds) }),
    },
    "presence:visibility": {
      limit: "reads",
      handle: async (actor, p, socket) => {
        await s.visibility.set(actor, socket, p.visible);
        return {};
      },
    },
    "session:refresh": sessionRefreshHandler(s.sessions),
    "room:notify": {
      limit: "rooms",
      handle: async (actor, p) => ({ room: await s.rooms.setNotify(actor, p.roomId, p.notify) }),
    },
    "user:prefs:get": {
      limit: "reads",
      handle: async (actor) => ({ prefs: await s.prefs.get(actor) }),
    },
    "user:prefs:set": {
      limit: "rooms",
      handle: async (actor, p) => ({ prefs: await s.prefs.set(actor, withoutUndefined(p)) }),
    },
  };
}

/** The fields that were given (an optional field parsed as absent stays absent, not `undefined`). */
function withoutUndefined<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
