/**
 * (v2.3) What each member decides for themselves, and counts only for them: a room's notification
 * setting, unread mentions, and a user's notification preferences. Read straight from the
 * database (one statement for a whole page of rooms); written through the store's write queue.
 */
import { notFound } from "../../errors.js";
import type { NotifyLevel } from "../../protocol/index.js";
import type { MemberView, StoredPrefs } from "../mentions.js";
import type { SqliteDatabase } from "./open.js";
import type { WriteQueue } from "./write-queue.js";

/**
 * The member's unread mentions: messages after their marker that mention them or everyone, not
 * their own. The repeated `mentions_all = 1 OR mentions <> '[]'` is the predicate of the partial
 * index `messages_mentioning`, so only messages that mention someone are read.
 */
const VIEWS = `
  SELECT mb.room_id AS room_id, mb.notify AS notify, (
    SELECT COUNT(*) FROM messages m
    WHERE m.room_id = mb.room_id AND m.seq > mb.read_seq AND (m.mentions_all = 1 OR m.mentions <> '[]')
      AND m.sender_id <> mb.user_id
      AND (m.mentions_all = 1 OR EXISTS (SELECT 1 FROM json_each(m.mentions) j WHERE j.value = mb.user_id))
  ) AS mentions
  FROM members mb JOIN rooms r ON r.id = mb.room_id AND r.closed = 0
  WHERE mb.user_id = ? AND mb.room_id IN (SELECT value FROM json_each(?))`;

interface ViewRow {
  room_id: number;
  notify: NotifyLevel;
  mentions: number;
}

interface PrefsRow {
  email: "off" | "digest" | null;
  email_delay_min: number | null;
  push: number | null;
}

export class MemberSettings {
  private readonly views;
  private readonly setNotifyStatement;
  private readonly prefs;
  private readonly upsertPrefs;

  constructor(
    db: SqliteDatabase,
    private readonly queue: WriteQueue,
  ) {
    this.views = db.prepare(VIEWS);
    this.setNotifyStatement = db.prepare(
      "UPDATE members SET notify = ? WHERE room_id = ? AND user_id = ? AND room_id IN (SELECT id FROM rooms WHERE closed = 0)",
    );
    this.prefs = db.prepare("SELECT email, email_delay_min, push FROM user_prefs WHERE user_id = ?");
    // a field given as NULL keeps its stored value
    this.upsertPrefs = db.prepare(
      `INSERT INTO user_prefs (user_id, email, email_delay_min, push) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET
         email = COALESCE(excluded.email, email),
         email_delay_min = COALESCE(excluded.email_delay_min, email_delay_min),
         push = COALESCE(excluded.push, push)`,
    );
  }

  memberViews(userId: string, roomIds: readonly string[]): ReadonlyMap<string, MemberView> {
    const views = new Map<string, MemberView>();
    if (roomIds.length === 0) return views;
    const ids = JSON.stringify(roomIds.map(Number));
    for (const row of this.views.all(userId, ids) as ViewRow[]) {
      views.set(String(row.room_id), { notify: row.notify, mentions: row.mentions });
    }
    return views;
  }

  setNotify(roomId: string, userId: string, notify: NotifyLevel): Promise<void> {
    return this.queue.run(() => {
      const info = this.setNotifyStatement.run(notify, Number(roomId), userId);
      if (info.changes === 0) throw notFound();
      return { result: undefined };
    });
  }

  userPrefs(userId: string): StoredPrefs {
    const row = this.prefs.get(userId) as PrefsRow | undefined;
    return row ? fromRow(row) : {};
  }

  setUserPrefs(userId: string, prefs: StoredPrefs): Promise<StoredPrefs> {
    return this.queue.run(() => {
      const push = prefs.push === undefined ? null : prefs.push ? 1 : 0;
      this.upsertPrefs.run(userId, prefs.email ?? null, prefs.emailDelayMin ?? null, push);
      return { result: this.userPrefs(userId) };
    });
  }
}

function fromRow(row: PrefsRow): StoredPrefs {
  const prefs: StoredPrefs = {};
  if (row.email !== null) prefs.email = row.email;
  if (row.email_delay_min !== null) prefs.emailDelayMin = row.email_delay_min;
  if (row.push !== null) prefs.push = row.push === 1;
  return prefs;
}
