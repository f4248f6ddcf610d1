/**
 * What the chat services share: the store, the user directory, the fan-out, and the clock.
 * Services are transport-agnostic: socket handlers and HTTP routes both call them.
 */
import type { Config } from "../config/index.js";
import { notFound } from "../errors.js";
import type { FileLinks } from "../files/links.js";
import type { Role } from "../protocol/index.js";
import type { Actor } from "../shared/actor.js";
import type { AsyncChatStore } from "../storage/async-chat-store.js";
import type { StoredRoom } from "../storage/chat-store.js";
import type { DirectoryUser, UserDirectory } from "../users/types.js";
import type { Broadcast } from "./broadcast.js";
import type { Availability } from "./notifications/availability.js";
import type { Scopes } from "./scopes.js";

export interface ChatDeps {
  config: Config;
  store: AsyncChatStore;
  directory: UserDirectory;
  /** what connected users are told (src/realtime/fanout.ts, without the services knowing Socket.io) */
  fanout: Broadcast;
  /** USERS_SCOPE_COLUMN: who may see whom */
  scopes: Scopes;
  /** signs the file links of every message a caller gets back (src/files/links.ts) */
  links: FileLinks;
  /** the current time as an ISO-8601 UTC string */
  now: () => string;
  /** (v2.4) whether a user may be notified away from the chat now (working hours, quiet hours) */
  availability: Availability;
  /** where an error thrown by a service's listener (onSent…) goes; the request goes on anyway */
  listenerError?: (error: unknown, hook: string) => void;
}

/** The `onError` of a service's listener list named `hook`. */
export function listenerErrors(deps: ChatDeps, hook: string): (error: unknown) => void {
  return (error) => deps.listenerError?.(error, hook);
}

/** The room, when the actor is a member; otherwise NOT_FOUND, exactly as for a room that doesn't exist. */
export async function memberRoom(deps: ChatDeps, actor: Actor, roomId: string): Promise<StoredRoom> {
  const room = await deps.store.room(roomId);
  if (!room?.members.has(actor.id)) throw notFound();
  return room;
}

/**
 * The actor's role in the room, when they are a member; otherwise NOT_FOUND like `memberRoom`.
 * One narrow read, not the whole room: this guards every send, history page and typing event.
 */
export async function memberRole(deps: ChatDeps, actor: Actor, roomId: string): Promise<Role> {
  const role = await deps.store.membership(roomId, actor.id);
  if (role === undefined) throw notFound();
  return role;
}

/**
 * The users behind `ids`, when every one exists, is active and is in the actor's scope; otherwise
 * NOT_FOUND (the same answer for each reason, so scopes stay private). Their names are remembered.
 */
export async function lookUpUsers(
  deps: ChatDeps,
  actor: Actor,
  ids: readonly string[],
): Promise<DirectoryUser[]> {
  const unique = [...new Set(ids)];
  const found = await deps.directory.findByIds(unique);
  const users: DirectoryUser[] = [];
  for (const id of unique) {
    const user = found.get(id);
    if (!user?.active || !visibleTo(deps, actor, user)) throw notFound("user");
    users.push(user);
  }
  await deps.store.rememberUsers(users);
  return users;
}

/** Whether `user` is inside the actor's USERS_SCOPE_COLUMN scope (always, without scopes). */
export function visibleTo(deps: ChatDeps, actor: Actor, user: DirectoryUser): boolean {
  return deps.config.users.scopeColumn === null || user.scope === actor.scope;
}
