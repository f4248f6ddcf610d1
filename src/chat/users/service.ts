/**
 * Finding colleagues to chat with: active users other than the caller, within their scope.
 * (v2.4) Users who share a room with the caller also show whether they may be reached now
 * (working hours, quiet hours); others leave those fields out, as their hours are not the
 * caller's business.
 */
import type { User } from "../../protocol/index.js";
import type { Actor } from "../../shared/actor.js";
import type { ChatDeps } from "../context.js";
import { availabilityOf } from "../hours/service.js";
import { roommatesOf } from "./roommates.js";

export class UserService {
  constructor(private readonly deps: ChatDeps) {}

  async search(actor: Actor, query: string, limit: number): Promise<User[]> {
    const users = await this.deps.directory.search(query.trim(), {
      limit,
      excludeId: actor.id,
      scope: actor.scope,
      scoped: this.deps.config.users.scopeColumn !== null,
    });
    if (users.length === 0) return [];
    const mates = await roommatesOf(this.deps, actor);
    const shared = users.filter((u) => mates.has(u.id)).map((u) => u.id);
    const availability = await availabilityOf(this.deps.availability, shared, Date.parse(this.deps.now()));
    return users.map((u) => ({ id: u.id, name: u.name, login: u.login, ...availability.get(u.id) }));
  }
}
