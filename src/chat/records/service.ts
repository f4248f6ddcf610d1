/**
 * Conversations on a TimeWise record (a timesheet, leave request, shift, project): the PHP app
 * attaches one room to a record and says who is in it; a member finds it by the record. Under the
 * hood a record's room is a mirrored group (src/chat/rooms/sync.ts) keyed `record/<kind>/<id>`,
 * so attaching twice, or from two nodes at once, gives the same room, and each sync adds and
 * removes members with the usual events: a removed member's sockets leave the room at once.
 */
import { notFound } from "../../errors.js";
import type { Room, RoomSyncBody } from "../../protocol/index.js";
import type { Actor } from "../../shared/actor.js";
import { recordKey } from "../../storage/records.js";
import type { ChatDeps } from "../context.js";
import type { RoomService } from "../rooms/service.js";
import type { RoomSyncService } from "../rooms/sync.js";

/** What the PHP app says about a record's conversation. */
export interface RecordAttach {
  kind: string;
  recordId: string;
  title: string;
  url: string;
  memberIds: readonly string[];
}

export class RecordService {
  constructor(
    private readonly deps: ChatDeps,
    private readonly rooms: RoomService,
    private readonly sync: RoomSyncService,
  ) {}

  /**
   * Creates the record's room, or makes it match: title, link and exactly these members (the
   * PHP app is trusted here: the server API). Nobody is made an admin; the first member in is the
   * room's owner, as in a mirrored group, but in a record's room that gives no power over members.
   */
  attach(input: RecordAttach): Promise<RoomSyncBody> {
    return this.sync.sync({
      externalKey: recordKey(input.kind, input.recordId),
      name: input.title,
      memberIds: input.memberIds,
      adminIds: [],
      recordUrl: input.url,
    });
  }

  /** `room:record`: the room of a record, for a member of it; NOT_FOUND for anyone else. */
  async find(actor: Actor, kind: string, recordId: string): Promise<Room> {
    const room = await this.deps.store.roomByExternalKey(recordKey(kind, recordId));
    // the same answer as for a non-member, so nobody learns which records have a room
    if (!room) throw notFound();
    return this.rooms.get(actor, room.id);
  }
}
