/**
 * The chat database's schema, as numbered migrations. A file is upgraded in place at start-up by
 * running the migrations it has not seen, each in its own transaction; nothing is ever dropped.
 * Never edit a migration that has shipped: add a new one.
 */
import type { Database } from "better-sqlite3";

export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: "chat schema",
    sql: `
      CREATE TABLE rooms (
        id INTEGER PRIMARY KEY,
        type TEXT NOT NULL CHECK (type IN ('direct', 'group')),
        name TEXT,
        -- "<smaller id>:<larger id>" for direct rooms, so a pair has exactly one room
        direct_key TEXT UNIQUE,
        -- set by the PHP app's server API to mirror teams or projects (e.g. "team:42")
        external_key TEXT UNIQUE,
        created_at TEXT NOT NULL,
        last_seq INTEGER NOT NULL DEFAULT 0,
        rev INTEGER NOT NULL DEFAULT 0,
        last_activity_at TEXT NOT NULL,
        closed INTEGER NOT NULL DEFAULT 0
      );

      CREATE TABLE members (
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        user_id TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
        joined_at TEXT NOT NULL,
        -- order of joining, to pick the longest-standing admin or member
        join_order INTEGER NOT NULL,
        read_seq INTEGER NOT NULL DEFAULT 0,
        -- the member's own messages after read_seq: unread = last_seq - read_seq - own_after_read
        own_after_read INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (room_id, user_id)
      ) WITHOUT ROWID;
      CREATE INDEX members_by_user ON members (user_id);

      CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        room_id INTEGER NOT NULL REFERENCES rooms (id),
        seq INTEGER NOT NULL,
        rev INTEGER NOT NULL,
        sender_id TEXT NOT NULL,
        body TEXT NOT NULL,
        client_id TEXT,
        reply_to_id INTEGER REFERENCES messages (id),
        created_at TEXT NOT NULL,
        edited_at TEXT,
        deleted INTEGER NOT NULL DEFAULT 0,
        -- JSON object emoji -> [user ids], in reaction order; small and always read with the message
        reactions TEXT NOT NULL DEFAULT '{}'
      );
      CREATE UNIQUE INDEX messages_by_seq ON messages (room_id, seq);
      CREATE UNIQUE INDEX messages_by_rev ON messages (room_id, rev);
      CREATE UNIQUE INDEX messages_by_client_id ON messages (sender_id, client_id) WHERE client_id IS NOT NULL;
      CREATE INDEX messages_own ON messages (room_id, sender_id, seq);

      -- full-text index over message bodies; rows are added shortly after commit by the indexer
      CREATE VIRTUAL TABLE message_search USING fts5 (body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2');
      CREATE TABLE search_progress (id INTEGER PRIMARY KEY CHECK (id = 1), indexed_upto INTEGER NOT NULL);
      INSERT INTO search_progress (id, indexed_upto) VALUES (1, 0);

      -- names and last-seen times of users, so rooms can be shown without asking the directory
      CREATE TABLE known_users (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        last_seen_at TEXT
      ) WITHOUT ROWID;

      -- the built-in user directory (used when MYSQL_HOST is unset)
      CREATE TABLE directory_users (
        id INTEGER PRIMARY KEY,
        login TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT NOT NULL,
        password_hash TEXT,
        active INTEGER NOT NULL DEFAULT 1,
        scope TEXT,
        created_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "token revocations",
    sql: `
      -- the server API's "disconnect": a user's tokens issued at or before revoked_before
      -- (Unix seconds) are refused, so a logged-out or banned user cannot reconnect with them
      CREATE TABLE token_revocations (
        user_id TEXT PRIMARY KEY,
        revoked_before INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: "search index moved to its own file",
    sql: `
      -- the full-text index now lives in <SQLITE_PATH>-search, kept by a worker thread; these held
      -- only derived data, rebuilt there from the messages
      DROP TABLE IF EXISTS message_search;
      DROP TABLE IF EXISTS search_progress;
    `,
  },
  {
    version: 4,
    name: "server secrets",
    sql: `
      -- secrets the installation made for itself (the token secret when AUTH_JWT_SECRET is unset)
      CREATE TABLE server_secrets (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    name: "files",
    sql: `
      -- every upload: who, how large, and the message that carries it (NULL until attached)
      CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        uploader_id TEXT NOT NULL,
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        -- sniffed from the bytes
        type TEXT NOT NULL,
        width INTEGER,
        height INTEGER,
        has_thumbnail INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        message_id INTEGER REFERENCES messages (id),
        room_id INTEGER REFERENCES rooms (id),
        -- where the bytes are in the file store: random, so a reused row id never meets old bytes
        store_key TEXT NOT NULL UNIQUE
      );
      -- a user's quota, and their files for export and erasure
      CREATE INDEX files_by_uploader ON files (uploader_id);
      CREATE INDEX files_by_message ON files (message_id) WHERE message_id IS NOT NULL;
      -- uploads never attached, for the clean-up
      CREATE INDEX files_unattached ON files (created_at) WHERE message_id IS NULL;
      -- what a message shows of its files (JSON, in their order), written when they are attached
      ALTER TABLE messages ADD COLUMN files TEXT NOT NULL DEFAULT '[]';
    `,
  },
  {
    version: 6,
    name: "file deletions",
    sql: `
      -- the store keys of file records deleted (with their message, or by the clean-up) whose bytes
      -- may still be in the file store: written in the transaction that deletes the record, removed
      -- once the bytes are gone, so a crash in between leaves a row the clean-up job finishes
      CREATE TABLE file_deletions (
        store_key TEXT PRIMARY KEY,
        deleted_at TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX file_deletions_by_time ON file_deletions (deleted_at);
    `,
  },
  {
    version: 7,
    name: "mentions and notification settings",
    sql: `
      -- who a message mentions (JSON array of user ids, resolved by the server) and @all/@here;
      -- both cleared when the message is deleted
      ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE messages ADD COLUMN mentions_all INTEGER NOT NULL DEFAULT 0;
      -- only the messages that mention anyone: a member's unread mentions are a short range of it
      CREATE INDEX messages_mentioning ON messages (room_id, seq) WHERE mentions_all = 1 OR mentions <> '[]';
      -- each member's notification setting for the room
      ALTER TABLE members ADD COLUMN notify TEXT NOT NULL DEFAULT 'all' CHECK (notify IN ('all', 'mentions', 'none'));
      -- the settings a user changed (NULL: the default)
      CREATE TABLE user_prefs (
        user_id TEXT PRIMARY KEY,
        email TEXT CHECK (email IN ('off', 'digest')),
        email_delay_min INTEGER,
        push INTEGER
      ) WITHOUT ROWID;
      -- the built-in directory's email addresses (never sent to other users)
      ALTER TABLE directory_users ADD COLUMN email TEXT;
    `,
  },
  {
    version: 8,
    name: "rooms on records",
    sql: `
      -- a record's room is a mirrored group keyed 'record/<kind>/<id>' (external_key is UNIQUE, so
      -- one room per record); this is its link back to the record in the PHP app
      ALTER TABLE rooms ADD COLUMN record_url TEXT;
      `,
  },
  {
    version: 9,
    name: "email digests",
    sql: `
      -- how far the digest job has looked in each member's room: messages at or below this seq
      -- are never looked at again (what is unread is worked out from read_seq at run time)
      CREATE TABLE digest_marks (
        room_id INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (room_id, user_id)
      ) WITHOUT ROWID;
      -- one email digest for one user, kept until it is sent (or given up), so a restart or an
      -- SMTP outage loses nothing and sends nothing twice
      CREATE TABLE digests (
        id INTEGER PRIMARY KEY,
        user_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_try_at TEXT NOT NULL,
        sent_at TEXT,
        -- sent, empty (everything was read or deleted first), no-address
        outcome TEXT
      );
      CREATE INDEX digests_by_user ON digests (user_id, created_at);
      CREATE INDEX digests_due ON digests (next_try_at) WHERE sent_at IS NULL;
      CREATE TABLE digest_items (
        digest_id INTEGER NOT NULL REFERENCES digests (id),
        message_id INTEGER NOT NULL,
        PRIMARY KEY (digest_id, message_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    // 9-10 are other branches' (the runner applies every version it has not applied)
    version: 10,
    name: "notices that must be acknowledged",
    sql: `
      -- (v2.4) one row per recipient of a notice (the members at send time, less the sender):
      -- acked_at NULL while pending; reminded_at is when the reminder job last reminded them
      CREATE TABLE message_acks (
        message_id INTEGER NOT NULL REFERENCES messages (id),
        user_id TEXT NOT NULL,
        acked_at TEXT,
        reminded_at TEXT,
        PRIMARY KEY (message_id, user_id)
      ) WITHOUT ROWID;
      -- the reminder job reads only the pending rows
      CREATE INDEX message_acks_pending ON message_acks (reminded_at) WHERE acked_at IS NULL;
    `,
  },
  {
    version: 11,
    name: "retention and audit log",
    sql: `
      -- a room's own retention in days; no row: RETENTION_DAYS applies
      CREATE TABLE room_retention (room_id INTEGER PRIMARY KEY REFERENCES rooms (id), days INTEGER NOT NULL);
      -- what retention and erasure look for: live messages by age, by room and age, by sender
      CREATE INDEX messages_live_by_time ON messages (created_at) WHERE deleted = 0;
      CREATE INDEX messages_live_by_room_time ON messages (room_id, created_at) WHERE deleted = 0;
      CREATE INDEX messages_by_sender ON messages (sender_id, id);
      -- every change made through the server API; only ever appended to
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        details TEXT NOT NULL DEFAULT '{}'
      );
    `,
  },
  {
    version: 12,
    name: "web push subscriptions",
    sql: `
      -- (v2.3) one row per browser endpoint; the user who subscribed it last owns it
      CREATE TABLE push_subscriptions (
        endpoint TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        p256dh TEXT NOT NULL,
        auth TEXT NOT NULL,
        created_at TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id);
    `,
  },
  {
    // 12-13 are other branches' (the runner applies every version it has not applied)
    version: 14,
    name: "working hours and urgent messages",
    sql: `
      -- (v2.4) a user's working hours (set by the PHP app) and quiet hours (their own), as JSON;
      -- no row: neither, so the user may be notified at any time
      CREATE TABLE user_hours (
        user_id TEXT PRIMARY KEY,
        schedule TEXT,
        quiet_hours TEXT,
        updated_at TEXT NOT NULL
      ) WITHOUT ROWID;
      -- every urgent message, for audit (GET /api/server/urgent)
      CREATE TABLE urgent_messages (
        -- no foreign key, as on PostgreSQL (its copy comes before the messages); messages are never removed
        message_id INTEGER PRIMARY KEY,
        room_id INTEGER NOT NULL,
        sender_id TEXT NOT NULL,
        at TEXT NOT NULL
      );
      CREATE INDEX urgent_messages_by_time ON urgent_messages (at);
    `,
  },
  {
    // 12-15 are other branches' (the runner applies every version it has not applied)
    version: 16,
    name: "audit log is append-only",
    sql: `
      -- the server only ever appends; these refuse a change or removal from anywhere else too
      CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be changed'); END;
      CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be removed'); END;
    `,
  },
];

/** Brings the file up to the newest schema. Returns the versions it applied. */
export function migrate(db: Database): number[] {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
  );
  const applied = new Set(
    db
      .prepare("SELECT version FROM schema_migrations")
      .pluck()
      .all()
      .map((v) => Number(v)),
  );
  const newest = Math.max(0, ...applied);
  const known = MIGRATIONS.at(-1)?.version ?? 0;
  if (newest > known) {
    throw new Error(
      `The chat database ${db.name} was made by a newer TimeWise Chat (schema ${newest}, this one knows ${known}). Update TimeWise Chat.`,
    );
  }
  const record = db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
  const done: number[] = [];
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, new Date().toISOString());
    })();
    done.push(m.version);
  }
  return done;
}
