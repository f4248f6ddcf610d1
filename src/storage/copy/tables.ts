/**
 * Every table of the SQLite chat schema that holds data, with its columns in one order used for
 * reading, inserting and checksums alike. The SQLite search index (its own file) is not here: it
 * holds only words derived from message bodies, which PostgreSQL indexes by itself on insert.
 */

/** How a column is written to PostgreSQL and into a checksum line. */
export type Kind = "text" | "int" | "bool";

export interface Column {
  name: string;
  kind: Kind;
}

export interface TableSpec {
  name: string;
  columns: readonly Column[];
  /** the SQLite ORDER BY that reads the table in a stable order */
  order: string;
}

const text = (name: string): Column => ({ name, kind: "text" });
const int = (name: string): Column => ({ name, kind: "int" });
const bool = (name: string): Column => ({ name, kind: "bool" });

export const ROOMS: TableSpec = {
  name: "rooms",
  columns: [
    int("id"),
    text("type"),
    text("name"),
    text("direct_key"),
    text("external_key"),
    text("created_at"),
    int("last_seq"),
    int("rev"),
    text("last_activity_at"),
    bool("closed"),
    text("record_url"),
  ],
  order: "id",
};

/** Members with their read markers (read_seq), unread bookkeeping and notification setting. */
export const MEMBERS: TableSpec = {
  name: "members",
  columns: [
    int("room_id"),
    text("user_id"),
    text("role"),
    text("joined_at"),
    int("join_order"),
    int("read_seq"),
    int("own_after_read"),
    text("notify"),
  ],
  order: "room_id, user_id",
};

/**
 * Messages with their client ids, replies, edits, deletes, reactions, what their files show and
 * whom they mention.
 */
export const MESSAGES: TableSpec = {
  name: "messages",
  columns: [
    int("id"),
    int("room_id"),
    int("seq"),
    int("rev"),
    text("sender_id"),
    text("body"),
    text("client_id"),
    int("reply_to_id"),
    text("created_at"),
    text("edited_at"),
    bool("deleted"),
    text("reactions"),
    text("files"),
    text("mentions"),
    bool("mentions_all"),
  ],
  order: "room_id, seq",
};

/**
 * The records of uploads. They point at messages and rooms, so they are copied after every room,
 * and checked whole like the small tables. Their bytes stay where they are: point the PostgreSQL
 * nodes at the same file store (FILES_DIR or S3_BUCKET).
 */
export const FILES: TableSpec = {
  name: "files",
  columns: [
    int("id"),
    text("uploader_id"),
    text("name"),
    int("size"),
    text("type"),
    int("width"),
    int("height"),
    bool("has_thumbnail"),
    text("created_at"),
    int("message_id"),
    int("room_id"),
    text("store_key"),
  ],
  order: "id",
};

/**
 * (v2.4) The recipients of notices that must be acknowledged. They point at messages, so they are
 * copied after every room, like the file records.
 */
export const MESSAGE_ACKS: TableSpec = {
  name: "message_acks",
  columns: [int("message_id"), text("user_id"), text("acked_at"), text("reminded_at")],
  order: "message_id, user_id",
};

/** (v2.4) Rooms' own retention: it points at rooms, so it is copied after them. */
export const ROOM_RETENTION: TableSpec = {
  name: "room_retention",
  columns: [int("room_id"), int("days")],
  order: "room_id",
};

/** Tables that point at rooms or messages, copied and checked whole once every room is there. */
export const AFTER_ROOMS: readonly TableSpec[] = [FILES, MESSAGE_ACKS, ROOM_RETENTION];

/** Tables that belong to no room, copied and checked whole (in this order: digests before their items). */
export const SMALL_TABLES: readonly TableSpec[] = [
  { name: "known_users", columns: [text("id"), text("name"), text("last_seen_at")], order: "id" },
  { name: "token_revocations", columns: [text("user_id"), int("revoked_before")], order: "user_id" },
  { name: "server_secrets", columns: [text("name"), text("value"), text("created_at")], order: "name" },
  {
    name: "directory_users",
    columns: [
      int("id"),
      text("login"),
      text("name"),
      text("password_hash"),
      bool("active"),
      text("scope"),
      text("created_at"),
      text("email"),
    ],
    order: "id",
  },
  // store keys of deleted files whose bytes the clean-up job still has to remove
  { name: "file_deletions", columns: [text("store_key"), text("deleted_at")], order: "store_key" },
  {
    name: "user_prefs",
    columns: [text("user_id"), text("email"), int("email_delay_min"), bool("push")],
    order: "user_id",
  },
  // (v2.3) email digests: how far the job looked per member, the digests, and what each one mails
  { name: "digest_marks", columns: [int("room_id"), text("user_id"), int("seq")], order: "room_id, user_id" },
  {
    name: "digests",
    columns: [
      int("id"),
      text("user_id"),
      text("created_at"),
      int("attempts"),
      text("next_try_at"),
      text("sent_at"),
      text("outcome"),
    ],
    order: "id",
  },
  { name: "digest_items", columns: [int("digest_id"), int("message_id")], order: "digest_id, message_id" },
  // (v2.4) the append-only audit log of server API changes
  {
    name: "audit_log",
    columns: [int("id"), text("at"), text("action"), text("target"), text("details")],
    order: "id",
  },
  // (v2.4) working hours and quiet hours, and the urgent messages kept for audit
  {
    name: "user_hours",
    columns: [text("user_id"), text("schedule"), text("quiet_hours"), text("updated_at")],
    order: "user_id",
  },
  {
    name: "urgent_messages",
    columns: [int("message_id"), int("room_id"), text("sender_id"), text("at")],
    order: "message_id",
  },
  // (v2.3) browsers' Web Push subscriptions
  {
    name: "push_subscriptions",
    columns: [text("endpoint"), text("user_id"), text("p256dh"), text("auth"), text("created_at")],
    order: "endpoint",
  },
];

/** Tables whose ids PostgreSQL hands out itself: its counter must continue after the copied ids. */
export const IDENTITY_TABLES = [
  "rooms",
  "messages",
  "directory_users",
  "files",
  "digests",
  "audit_log",
] as const;

/**
 * Tables of the SQLite file that are not copied, and why: the copy's own bookkeeping, and what
 * PostgreSQL works out by itself. test/storage/store-copy.test.ts checks that every other table
 * both schemas have is copied, so a table added later cannot be forgotten here.
 */
export const NOT_COPIED: Readonly<Record<string, string>> = {
  schema_migrations: "each database records its own migrations",
  search_progress: "SQLite's search index bookkeeping; PostgreSQL indexes each message on insert",
};
