/**
 * Who a user shares a room with: the people whose presence and (v2.4) availability they may see.
 */
import type { Actor } from "../../shared/actor.js";
import type { ChatDeps } from "../context.js";

/** Everyone who shares at least one room with the user and is in their scope (the user excluded). */
export async function roommatesOf(deps: ChatDeps, user: Actor): Promise<Set<string>> {
  const mates = new Set<string>();
  for (const room of await deps.store.roomsOf(user.id)) {
    for (const memberId of room.members.keys()) mates.add(memberId);
  }
  mates.delete(user.id);
  if (!deps.scopes.enabled) return mates;
  const visible = await deps.scopes.visibleTo(user, mates);
  for (const id of mates) if (!visible(id)) mates.delete(id);
  return mates;
}
