/**
 * One room copied in one PostgreSQL transaction: its row, its members (with their read markers)
 * and its messages, then checked inside the same transaction before COMMIT. A room whose target
 * already holds something different is rolled back whole and reported by id, so no room is ever
 * left half copied. Messages are read from SQLite a page at a time by seq, and the next page is
 * read and hashed while PostgreSQL inserts the previous one.
 */
import type pg from "pg";
import {
  checksumSql,
  lineOf,
  lineSql,
  OrderedChecksum,
  type SourceRow,
  unorderedChecksum,
} from "./checksum.js";
import { insertRows } from "./insert.js";
import type { SourceDatabase } from "./source.js";
import { MEMBERS, MESSAGES, ROOMS, type TableSpec } from "./tables.js";

/** Messages per INSERT: large enough that round trips don't matter, small enough to stay light. */
const BATCH = 5000;

export interface RoomResult {
  roomId: number;
  messages: number;
  addedMessages: number;
  members: number;
  /** what differs, in words; undefined when the room in the target equals the file */
  problem?: string;
}

const names = (spec: TableSpec) => spec.columns.map((c) => c.name).join(", ");

/** The SQLite reads of a room, prepared once per file. */
export class RoomSource {
  private readonly roomRows;
  private readonly memberRows;
  private readonly messagePage;

  constructor(db: SourceDatabase) {
    this.roomRows = db.prepare(`SELECT ${names(ROOMS)} FROM rooms ORDER BY id`).raw();
    this.memberRows = db.prepare(`SELECT ${names(MEMBERS)} FROM members WHERE room_id = ?`).raw();
    this.messagePage = db
      .prepare(
        `SELECT ${names(MESSAGES)} FROM messages WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ${BATCH}`,
      )
      .raw();
  }

  /** Every room row. Read at once: an open iterator would keep the other reads waiting. */
  rooms(): SourceRow[] {
    return this.roomRows.all() as SourceRow[];
  }

  members(roomId: number): SourceRow[] {
    return this.memberRows.all(roomId) as SourceRow[];
  }

  /** The next page of the room's messages after `afterSeq`. */
  messages(roomId: number, afterSeq: number): SourceRow[] {
    return this.messagePage.all(roomId, afterSeq) as SourceRow[];
  }
}

const SEQ = MESSAGES.columns.findIndex((c) => c.name === "seq");

const ROOM_LINE = `SELECT ${lineSql(ROOMS)} AS line FROM rooms WHERE id = $1`;
const MEMBERS_CHECK = checksumSql(MEMBERS, "WHERE room_id = $1");
const MESSAGES_CHECK = `SELECT count(*)::int AS rows, coalesce(max(seq), 0)::bigint::text AS max_seq,
  coalesce(md5(string_agg(md5(${lineSql(MESSAGES)}), '' ORDER BY seq)), md5('')) AS checksum
  FROM messages WHERE room_id = $1`;

/** Copies one room (its row as read from SQLite) and checks it; rolls it back if it differs. */
export async function copyRoom(
  client: pg.PoolClient,
  source: RoomSource,
  room: SourceRow,
): Promise<RoomResult> {
  const roomId = Number(room[0]);
  const result: RoomResult = { roomId, messages: 0, addedMessages: 0, members: 0 };
  await client.query("BEGIN");
  try {
    const problem = await copyInside(client, source, room, result);
    if (problem !== undefined) {
      await client.query("ROLLBACK");
      return {
        ...result,
        addedMessages: 0,
        problem: `room ${roomId}: ${problem}; nothing was copied for it`,
      };
    }
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/** The copy and the checks; returns what differs, if anything. */
async function copyInside(
  client: pg.PoolClient,
  source: RoomSource,
  room: SourceRow,
  result: RoomResult,
): Promise<string | undefined> {
  const roomId = result.roomId;
  // the room row first: if the target has another room there, stop before copying anything
  await insertRows(client, ROOMS, [room]);
  const target = await client.query<{ line: string }>(ROOM_LINE, [roomId]);
  if (target.rows[0]?.line !== lineOf(ROOMS, room)) {
    return target.rows.length === 0
      ? "the target already has a room with the same direct or external key"
      : "the target already has this room with other values (name, seq, rev, times or keys)";
  }

  const members = source.members(roomId);
  await insertRows(client, MEMBERS, members);
  result.members = members.length;

  const checksum = new OrderedChecksum();
  let afterSeq = 0;
  let inFlight: Promise<number> = Promise.resolve(0);
  for (;;) {
    // read and hash the next page while PostgreSQL still inserts the previous one
    const page = source.messages(roomId, afterSeq);
    for (const row of page) checksum.add(lineOf(MESSAGES, row));
    result.addedMessages += await inFlight;
    if (page.length === 0) break;
    result.messages += page.length;
    afterSeq = Number(page[page.length - 1]![SEQ]);
    inFlight = insertRows(client, MESSAGES, page);
  }

  const memberCheck = (await client.query<{ rows: number; checksum: string }>(MEMBERS_CHECK, [roomId]))
    .rows[0]!;
  if (
    memberCheck.rows !== members.length ||
    memberCheck.checksum !== unorderedChecksum(members.map((m) => lineOf(MEMBERS, m)))
  ) {
    return `its members or read markers differ in the target (${memberCheck.rows} members there, ${members.length} in the file)`;
  }
  const messageCheck = (
    await client.query<{ rows: number; max_seq: string; checksum: string }>(MESSAGES_CHECK, [roomId])
  ).rows[0]!;
  if (messageCheck.rows !== result.messages || Number(messageCheck.max_seq) !== afterSeq) {
    return `its messages differ in the target (${messageCheck.rows} messages up to seq ${messageCheck.max_seq} there, ${result.messages} up to seq ${afterSeq} in the file)`;
  }
  if (messageCheck.checksum !== checksum.digest()) {
    return "its messages differ in the target (same count and seq, but other ids, revs, bodies, times or reactions)";
  }
  return undefined;
}
