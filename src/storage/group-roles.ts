/**
 * Who holds which role in a mirrored group after a sync (the server API's room sync), the same
 * for every chat store: the store reads the members, asks this what to change, and writes it.
 */
import type { Role } from "../protocol/index.js";
import type { GroupSync } from "./chat-store.js";

/** A member whose role must change; `existing` is false for someone the sync just added. */
export interface RoleChange {
  userId: string;
  role: Role;
  existing: boolean;
}

/**
 * The role changes that make `order` (everyone now in the room, in joining order) match `input`.
 * `before` holds the roles before the sync; newcomers were added as plain members. The owner is
 * the one asked for, else the old owner while they stay, else the first admin, else the first in.
 */
export function planRoles(
  input: Pick<GroupSync, "ownerId" | "adminIds">,
  before: ReadonlyMap<string, Role>,
  order: readonly string[],
): RoleChange[] {
  const stays = new Set(order);
  const oldOwner = [...before].find(([, role]) => role === "owner")?.[0];
  const admins = input.adminIds === null ? null : new Set(input.adminIds);
  const owner =
    input.ownerId ??
    (oldOwner !== undefined && stays.has(oldOwner) ? oldOwner : undefined) ??
    order.find((id) => (admins ? admins.has(id) : before.get(id) === "admin")) ??
    order[0];
  const changes: RoleChange[] = [];
  for (const userId of order) {
    const current = before.get(userId) ?? "member";
    let role: Role;
    if (userId === owner) role = "owner";
    else if (admins) role = admins.has(userId) ? "admin" : "member";
    else role = current === "owner" ? "member" : current;
    if (role !== current) changes.push({ userId, role, existing: before.has(userId) });
  }
  return changes;
}
