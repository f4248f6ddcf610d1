/**
 * (v2.3) The email digest job's tables in SQLite (see ../digests.ts). Reads go straight to the
 * database; writes go through the store's write queue like every other write.
 */
import type { NotifyLevel, RoomType } from "../../protocol/index.js";
import type {
  ClaimedDigest,
  DigestEntry,
  DigestMark,
  DigestOutcome,
  DueMessage,
  NewDigest,
} from "../digests.js";
import { aboveMarks } from "../digests.js";
import { parseMentions } from "../mentions.js";
import type { SqliteDatabase } from "./open.js";
import type { WriteQueue } from "./write-queue.js";

/**
 * `MAX(read_seq, mark)` is where the member's unseen messages start. Urgent messages (v2.4)
 * are left out: they were notified at once (src/chat/hours/urgent.ts). `r.last_seq > …` skips, from
 * the members index alone, every member who has nothing new: the usual case.
 */
const DUE = `
  SELECT mb.user_id, mb.room_id, m.id AS message_id, m.seq, m.sender_id, m.body, m.created_at,
    m.mentions, m.mentions_all, mb.notify, p.email, p.email_delay_min,
    (SELECT MAX(d.created_at) FROM digests d WHERE d.user_id = mb.user_id) AS last_digest_at
  FROM members mb
  JOIN rooms r ON r.id = mb.room_id AND r.closed = 0
  LEFT JOIN digest_marks dm ON dm.room_id = mb.room_id AND dm.user_id = mb.user_id
  LEFT JOIN user_prefs p ON p.user_id = mb.user_id
  JOIN messages m ON m.room_id = mb.room_id AND m.seq > MAX(mb.read_seq, COALESCE(dm.seq, 0))
  WHERE mb.notify <> 'none' AND r.last_seq > MAX(mb.read_seq, COALESCE(dm.seq, 0))
    AND m.sender_id <> mb.user_id AND m.deleted = 0 AND m.created_at <= ?
    AND NOT EXISTS (SELECT 1 FROM urgent_messages u WHERE u.message_id = m.id)
  ORDER BY mb.user_id, mb.room_id, m.seq
  LIMIT ?`;

const ENTRIES = `
  SELECT di.digest_id, m.room_id, r.type AS room_type, r.name AS room_name, m.id AS message_id, m.seq,
    m.sender_id, m.body, m.created_at
  FROM digest_items di
  JOIN digests d ON d.id = di.digest_id
  JOIN messages m ON m.id = di.message_id AND m.deleted = 0
  JOIN rooms r ON r.id = m.room_id AND r.closed = 0
  JOIN members mb ON mb.room_id = m.room_id AND mb.user_id = d.user_id AND mb.read_seq < m.seq
  WHERE di.digest_id IN (SELECT value FROM json_each(?))
  ORDER BY di.digest_id, m.room_id, m.seq`;

interface DueRow {
  user_id: string;
  room_id: number;
  message_id: number;
  seq: number;
  sender_id: string;
  body: string;
  created_at: string;
  mentions: string;
  mentions_all: number;
  notify: NotifyLevel;
  email: "off" | "digest" | null;
  email_delay_min: number | null;
  last_digest_at: string | null;
}

interface EntryRow {
  digest_id: number;
  room_id: number;
  room_type: RoomType;
  room_name: string | null;
  message_id: number;
  seq: number;
  sender_id: string;
  body: string;
  created_at: string;
}

export class SqliteDigests {
  private readonly due;
  private readonly entries;
  private readonly markOf;
  private readonly upsertMark;
  private readonly insertDigest;
  private readonly insertItem;
  private readonly claim;
  private readonly finish;
  private readonly retry;
  private readonly pruneItems;
  private readonly prune;

  constructor(
    db: SqliteDatabase,
    private readonly queue: WriteQueue,
  ) {
    this.due = db.prepare(DUE);
    this.entries = db.prepare(ENTRIES);
    this.markOf = db.prepare("SELECT seq FROM digest_marks WHERE room_id = ? AND user_id = ?").pluck();
    this.upsertMark = db.prepare(
      `INSERT INTO digest_marks (room_id, user_id, seq) VALUES (?, ?, ?)
       ON CONFLICT (room_id, user_id) DO UPDATE SET seq = MAX(seq, excluded.seq)`,
    );
    this.insertDigest = db.prepare(
      "INSERT INTO digests (user_id, created_at, next_try_at) VALUES (?, ?, ?) RETURNING id",
    );
    this.insertItem = db.prepare("INSERT OR IGNORE INTO digest_items (digest_id, message_id) VALUES (?, ?)");
    this.claim = db.prepare(
      `UPDATE digests SET next_try_at = ?, attempts = attempts + 1
       WHERE id IN (SELECT id FROM digests WHERE sent_at IS NULL AND next_try_at <= ? ORDER BY next_try_at LIMIT ?)
       RETURNING id, user_id, attempts`,
    );
    this.finish = db.prepare("UPDATE digests SET sent_at = ?, outcome = ? WHERE id = ? AND sent_at IS NULL");
    this.retry = db.prepare("UPDATE digests SET next_try_at = ? WHERE id = ? AND sent_at IS NULL");
    this.pruneItems = db.prepare(
      "DELETE FROM digest_items WHERE digest_id IN (SELECT id FROM digests WHERE sent_at < ?)",
    );
    this.prune = db.prepare("DELETE FROM digests WHERE sent_at < ?");
  }

  dueMessages(before: string, limit: number): DueMessage[] {
    return (this.due.all(before, limit) as DueRow[]).map((row) => ({
      userId: row.user_id,
      roomId: String(row.room_id),
      messageId: String(row.message_id),
      seq: row.seq,
      senderId: row.sender_id,
      body: row.body,
      createdAt: row.created_at,
      mentions: parseMentions(row.mentions),
      mentionsAll: row.mentions_all === 1,
      notify: row.notify,
      email: row.email,
      emailDelayMin: row.email_delay_min,
      lastDigestAt: row.last_digest_at,
    }));
  }

  queueDigests(
    marks: readonly DigestMark[],
    digests: readonly NewDigest[],
    at: string,
  ): Promise<NewDigest[]> {
    return this.queue.run(() => {
      // the marks as they are now, inside the write: another process may have moved them
      const current = new Map<string, number>();
      for (const mark of marks) {
        const seq = this.markOf.get(Number(mark.roomId), mark.userId) as number | undefined;
        if (seq !== undefined) current.set(`${mark.userId} ${mark.roomId}`, seq);
      }
      const taken = aboveMarks(digests, current);
      for (const mark of marks) this.upsertMark.run(Number(mark.roomId), mark.userId, mark.seq);
      for (const digest of taken) {
        if (!digest.mail) continue;
        const { id } = this.insertDigest.get(digest.userId, at, at) as { id: number };
        for (const m of digest.messages) this.insertItem.run(id, Number(m.messageId));
      }
      return { result: taken };
    });
  }

  claimDigests(now: string, holdUntil: string, limit: number): Promise<ClaimedDigest[]> {
    return this.queue.run(() => {
      const rows = this.claim.all(holdUntil, now, limit) as {
        id: number;
        user_id: string;
        attempts: number;
      }[];
      return {
        result: rows.map((row) => ({ id: String(row.id), userId: row.user_id, attempts: row.attempts })),
      };
    });
  }

  digestEntries(digestIds: readonly string[]): DigestEntry[] {
    if (digestIds.length === 0) return [];
    const rows = this.entries.all(JSON.stringify(digestIds.map(Number))) as EntryRow[];
    return rows.map((row) => ({
      digestId: String(row.digest_id),
      roomId: String(row.room_id),
      roomType: row.room_type,
      roomName: row.room_name,
      messageId: String(row.message_id),
      seq: row.seq,
      senderId: row.sender_id,
      body: row.body,
      createdAt: row.created_at,
    }));
  }

  finishDigest(digestId: string, at: string, outcome: DigestOutcome): Promise<void> {
    return this.queue.run(() => {
      this.finish.run(at, outcome, Number(digestId));
      return { result: undefined };
    });
  }

  retryDigest(digestId: string, nextTryAt: string): Promise<void> {
    return this.queue.run(() => {
      this.retry.run(nextTryAt, Number(digestId));
      return { result: undefined };
    });
  }

  pruneDigests(before: string): Promise<number> {
    return this.queue.run(() => {
      this.pruneItems.run(before);
      return { result: this.prune.run(before).changes };
    });
  }
}
