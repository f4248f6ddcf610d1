/**
 * Finding colleagues to chat with: active users other than the caller, within their scope.
 */
import type { User } from "../../protocol/index.js";
import type { Actor } from "../../shared/actor.js";
import type { ChatDeps } from "../context.js";

export class UserService {
  constructor(private readonly deps: ChatDeps) {}

  async search(actor: Actor, query: string, limit: number): Promise<User[]> {
    const users = await this.deps.directory.search(query.trim(), {
      limit,
      excludeId: actor.id,
      scope: actor.scope,
      scoped: this.deps.config.users.scopeColumn !== null,
    });
    return users.map((u) => ({ id: u.id, name: u.name, login: u.login }));
  }
}
