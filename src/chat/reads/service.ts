/**
 * Read markers: a member's marker only moves forward and never past the room's last message;
 * every member's sockets hear about it (read receipts, and the reader's other devices).
 */
import type { Actor } from "../../shared/actor.js";
import { type ChatDeps, memberRoom } from "../context.js";
import { scopeKey } from "../scopes.js";

export class ReadService {
  constructor(private readonly deps: ChatDeps) {}

  async markRead(actor: Actor, roomId: string, seq: number): Promise<number> {
    const room = await memberRoom(this.deps, actor, roomId);
    const before = room.members.get(actor.id)?.readSeq ?? 0;
    const readSeq = await this.deps.store.markRead(roomId, actor.id, seq);
    // with USERS_SCOPE_COLUMN the receipt shows the reader: only their scope's sockets get it
    const scope = this.deps.scopes.enabled ? scopeKey(actor.scope) : undefined;
    if (readSeq > before) this.deps.fanout.roomRead(roomId, actor.id, readSeq, scope);
    return readSeq;
  }
}
