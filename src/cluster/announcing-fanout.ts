/**
 * The fan-out of a node in a cluster: every broadcast that follows a change of a room also tells
 * the other nodes to re-read that room, so their in-memory view (members, last message, counters)
 * matches the shared database. Announcements of one event-loop turn go out as one publish.
 */
import type { ScopeKey } from "../chat/scopes.js";
import type { FileLinks } from "../files/links.js";
import type { Message, SharedRoom } from "../protocol/index.js";
import { Fanout, type RoomMembers } from "../realtime/fanout.js";
import type { ChatServer } from "../realtime/types.js";
import type { Cluster } from "./index.js";

export class AnnouncingFanout extends Fanout {
  private pending = new Set<string>();
  private scheduled = false;

  constructor(
    io: ChatServer,
    private readonly cluster: Pick<Cluster, "announceRooms">,
    links: FileLinks,
    members: RoomMembers,
  ) {
    super(io, links, members);
  }

  override messageNew(message: Message): void {
    super.messageNew(message);
    this.changed(message.roomId);
  }

  override messageUpdated(message: Message): void {
    super.messageUpdated(message);
    this.changed(message.roomId);
  }

  override messageDeleted(message: Message): void {
    super.messageDeleted(message);
    this.changed(message.roomId);
  }

  override roomUpdated(room: SharedRoom, scope?: ScopeKey): void {
    super.roomUpdated(room, scope);
    this.changed(room.id);
  }

  /** Their sockets may be on another node: every member gets their own copy through the adapter. */
  protected override mayHaveSockets(_userId: string): boolean {
    return true;
  }

  override roomTouched(roomId: string): void {
    this.changed(roomId);
  }

  override roomRead(roomId: string, userId: string, seq: number, scope?: ScopeKey): void {
    super.roomRead(roomId, userId, seq, scope);
    this.changed(roomId);
  }

  override remove(userId: string, roomId: string, scopes?: readonly ScopeKey[]): void {
    super.remove(userId, roomId, scopes);
    this.changed(roomId);
  }

  private changed(roomId: string): void {
    this.pending.add(roomId);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const rooms = this.pending;
      this.pending = new Set();
      this.cluster.announceRooms(rooms);
    });
  }
}
