/**
 * USERS_SCOPE_COLUMN everywhere a user appears. Two users of different scopes may still share a
 * room made before one of them moved (or before scopes were turned on); then neither may see the
 * other: not in member lists, presence, typing or read receipts. Each user's scope comes from the
 * directory (cached for a few seconds, so a move shows soon), never from what a client says.
 *
 * Sockets of a scoped installation also join one channel per room and scope, so typing, read
 * receipts and `room:updated` reach only the sockets of the scope they are about.
 */
import type { UserDirectory } from "../users/types.js";

/** A scope as a channel-safe key: `null` (users without a value) is a scope of its own. */
export type ScopeKey = string;

export function scopeKey(scope: string | null): ScopeKey {
  return JSON.stringify(scope);
}

/** Who may see whom; `enabled` is false without USERS_SCOPE_COLUMN, when everyone sees everyone. */
export class Scopes {
  constructor(
    readonly enabled: boolean,
    private readonly directory: UserDirectory,
  ) {}

  /**
   * The scope key of each user the directory knows among `ids` (users it does not know are left
   * out, and so are visible to nobody). Empty when scopes are off: nothing needs looking up.
   */
  async of(ids: Iterable<string>): Promise<Map<string, ScopeKey>> {
    const keys = new Map<string, ScopeKey>();
    if (!this.enabled) return keys;
    const found = await this.directory.findByIds([...new Set(ids)]);
    for (const [id, user] of found) keys.set(id, scopeKey(user.scope));
    return keys;
  }

  /**
   * Whether each of `ids` may be shown to a viewer of `viewerScope` (the viewer is always visible
   * to themselves). Without scopes: everyone.
   */
  async visibleTo(viewer: { id: string; scope: string | null }, ids: Iterable<string>) {
    if (!this.enabled) return (_id: string) => true;
    const keys = await this.of(ids);
    const mine = scopeKey(viewer.scope);
    return (id: string) => id === viewer.id || keys.get(id) === mine;
  }
}
