/**
 * Every SQL statement of the chat store, prepared once when the store opens.
 */
import type { SqliteDatabase } from "./open.js";
import { MESSAGE_COLUMNS } from "./rows.js";

export function prepareStatements(db: SqliteDatabase) {
  const p = (sql: string) => db.prepare(sql);
  return {
    messageById: p(`SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?`),
    messageByClientId: p(
      `SELECT ${MESSAGE_COLUMNS} FROM messages m WHERE m.sender_id = ? AND m.client_id = ?`,
    ),
    roomOfMessage: p("SELECT room_id FROM messages WHERE id = ?"),
    /** takes the room's next seq and rev in one step, inside the send's transaction */
    nextSeq: p(
      "UPDATE rooms SET last_seq = last_seq + 1, rev = rev + 1, last_activity_at = ? WHERE id = ? AND closed = 0 RETURNING last_seq, rev",
    ),
    nextRev: p("UPDATE rooms SET rev = rev + 1 WHERE id = ? AND closed = 0 RETURNING rev"),
    insertMessage: p(
      `INSERT INTO messages (room_id, seq, rev, sender_id, body, client_id, reply_to_id, created_at, files, mentions, mentions_all)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    countOwnMessage: p(
      "UPDATE members SET own_after_read = own_after_read + 1 WHERE room_id = ? AND user_id = ?",
    ),
    editMessage: p(
      "UPDATE messages SET body = ?, edited_at = ?, rev = ?, mentions = ?, mentions_all = ? WHERE id = ?",
    ),
    deleteMessage: p(
      "UPDATE messages SET body = '', deleted = 1, reactions = '{}', files = '[]', mentions = '[]', mentions_all = 0, rev = ? WHERE id = ?",
    ),
    setReactions: p("UPDATE messages SET reactions = ?, rev = ? WHERE id = ?"),

    roomByDirectKey: p("SELECT id FROM rooms WHERE direct_key = ?"),
    insertRoom: p(
      `INSERT INTO rooms (type, name, direct_key, external_key, created_at, last_activity_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    renameRoom: p("UPDATE rooms SET name = ? WHERE id = ? AND closed = 0"),
    closeRoom: p("UPDATE rooms SET closed = 1 WHERE id = ?"),
    roomCounters: p("SELECT last_seq, rev FROM rooms WHERE id = ? AND closed = 0"),
    insertMember: p(
      `INSERT INTO members (room_id, user_id, role, joined_at, join_order, read_seq)
       VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(join_order), 0) + 1 FROM members WHERE room_id = ?), ?)
       ON CONFLICT (room_id, user_id) DO NOTHING`,
    ),
    member: p("SELECT role, read_seq FROM members WHERE room_id = ? AND user_id = ?"),
    setRole: p("UPDATE members SET role = ? WHERE room_id = ? AND user_id = ?"),
    deleteMember: p("DELETE FROM members WHERE room_id = ? AND user_id = ?"),
    /** the longest-standing admin, else the longest-standing member */
    nextOwner: p(
      "SELECT user_id FROM members WHERE room_id = ? ORDER BY CASE role WHEN 'admin' THEN 0 ELSE 1 END, join_order LIMIT 1",
    ),
    ownMessagesAfter: p(
      "SELECT COUNT(*) FROM messages WHERE room_id = ? AND sender_id = ? AND seq > ?",
    ).pluck(),
    setRead: p("UPDATE members SET read_seq = ?, own_after_read = ? WHERE room_id = ? AND user_id = ?"),

    knownUsers: p("SELECT id, name, last_seen_at FROM known_users"),
    knownName: p("SELECT name FROM known_users WHERE id = ?").pluck(),
    upsertName: p(
      "INSERT INTO known_users (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
    ),
    upsertLastSeen: p(
      "INSERT INTO known_users (id, name, last_seen_at) VALUES (?, '', ?) ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
    ),
    ping: p("SELECT 1").pluck(),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
