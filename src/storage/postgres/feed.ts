/**
 * The commit feed: every committed write tells every node what changed, through PostgreSQL's
 * LISTEN/NOTIFY. The writer NOTIFYs inside its transaction, and PostgreSQL delivers the
 * notification only when (and if) the transaction commits, in commit order. Each node LISTENs on
 * its own dedicated connection; when that connection is lost, `listen` connects again and reports
 * "resumed", because what was committed meanwhile was not heard and must be read back (by rev).
 */
import pg from "pg";
import { z } from "zod";

/** The one channel of the feed. */
export const FEED_CHANNEL = "timewise_chat";

/** Sends one event; run inside the write's transaction. */
export const notifyStatement = `SELECT pg_notify('${FEED_CHANNEL}', $1)`;

/**
 * A message as the feed carries it inline. Reactions are checked in place rather than rebuilt, so
 * an emoji such as "__proto__" stays a plain key of the parsed object.
 */
const reactionsSchema = z.custom<Record<string, string[]>>(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((users) => Array.isArray(users) && users.every((u) => typeof u === "string")),
  "reactions: emoji → user ids",
);
export const FeedMessageSchema = z.object({
  id: z.string(),
  roomId: z.string(),
  seq: z.number().int().positive(),
  rev: z.number().int().positive(),
  senderId: z.string(),
  body: z.string(),
  clientId: z.string().nullable(),
  replyToId: z.string().nullable(),
  createdAt: z.string(),
  editedAt: z.string().nullable(),
  deleted: z.boolean(),
  reactions: reactionsSchema,
  // chat_send (the send without files) leaves them out: its messages have none
  files: z
    .array(
      z.object({
        id: z.string(),
        name: z.string(),
        size: z.number(),
        type: z.string(),
        width: z.number().nullable(),
        height: z.number().nullable(),
        url: z.string(),
        thumbnailUrl: z.string().nullable(),
      }),
    )
    .default([]),
  // (v2.3) chat_message_json (migration 8) gives both; a message written before it mentions nobody
  mentions: z.array(z.string()).default([]),
  mentionsAll: z.boolean().default(false),
});

/** What a committed write changed: kept small (NOTIFY payloads are limited to 8000 bytes). */
export const FeedEventSchema = z.object({
  /** message: a message was sent, edited, deleted or reacted to; room: the room or its members; read: a read marker; revocation: a user's tokens */
  kind: z.enum(["message", "room", "read", "revocation"]),
  roomId: z.string().nullable(),
  /** the room's rev after the write (contiguous for message changes), null when no room */
  rev: z.number().int().nonnegative().nullable(),
  /** the user concerned (read markers, revocations, removed members), when there is one */
  userId: z.string().optional(),
  /** message events: what happened to the message (the event name clients get) */
  change: z.enum(["new", "updated", "deleted"]).optional(),
  /** message events: the message as committed, when it fits in one notification; else read back by rev */
  message: FeedMessageSchema.optional(),
  /** read events: the reader's marker after the write */
  seq: z.number().int().nonnegative().optional(),
  /** set by the writing node, so it can wait until its own listener has passed the event on */
  tag: z.string().optional(),
});

export type FeedEvent = z.infer<typeof FeedEventSchema>;

/** The most a NOTIFY payload may take, in bytes (PostgreSQL refuses 8000 and more). */
export const MAX_PAYLOAD_BYTES = 7999;

/**
 * The NOTIFY payload of an event: with its message inline when the whole JSON fits in
 * MAX_PAYLOAD_BYTES, else without it (listeners then read the message back by its rev).
 */
export function encodeEvent(event: FeedEvent): string {
  const full = JSON.stringify(event);
  if (event.message === undefined || Buffer.byteLength(full) <= MAX_PAYLOAD_BYTES) return full;
  const { message: _dropped, ...small } = event;
  return JSON.stringify(small);
}

export interface ListenOptions {
  /** `postgres://…`, the chat database */
  url: string;
  /** a committed write, in commit order */
  onEvent: (event: FeedEvent) => void;
  /** the connection was lost: what commits from now until `onResumed` is not heard */
  onLost?: () => void;
  /** listening again after the connection was lost: fill the gap from the database */
  onResumed?: () => void;
  /** the connection was lost, or a payload was not a feed event */
  onProblem?: (message: string) => void;
  /** wait before connecting again (default 500 ms, doubling up to 10 s) */
  retryDelayMs?: number;
}

export interface Listener {
  /** Settles once the first LISTEN is in place. */
  ready: Promise<void>;
  /** Stops listening and closes the connection. */
  close(): Promise<void>;
}

/** The longest wait between two attempts to connect again. */
const MAX_RETRY_MS = 10_000;

/** Listens to the commit feed on its own connection, connecting again whenever it is lost. */
export function listen(options: ListenOptions): Listener {
  const base = options.retryDelayMs ?? 500;
  let client: pg.Client | null = null;
  let closed = false;
  let delay = base;
  let timer: NodeJS.Timeout | null = null;
  let connectedOnce = false;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  const onNotification = (message: pg.Notification) => {
    if (message.channel !== FEED_CHANNEL) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.payload ?? "");
    } catch {
      parsed = undefined;
    }
    const event = FeedEventSchema.safeParse(parsed);
    if (event.success) options.onEvent(event.data);
    else options.onProblem?.("a commit-feed notification was not a feed event; ignored");
  };

  const lost = (current: pg.Client, why: string) => {
    if (client !== current) return; // already handled ("error" and "end" both come)
    client = null;
    current.removeAllListeners("notification");
    current.end().catch(() => {});
    if (closed) return;
    options.onLost?.();
    options.onProblem?.(`commit feed connection lost (${why}); connecting again`);
    timer = setTimeout(connect, delay);
    delay = Math.min(delay * 2, MAX_RETRY_MS);
  };

  const connect = async () => {
    timer = null;
    if (closed) return;
    const current = new pg.Client({ connectionString: options.url, application_name: "timewise-chat-feed" });
    client = current;
    current.on("notification", onNotification);
    current.on("error", (error) => lost(current, error.message));
    current.on("end", () => lost(current, "connection ended"));
    try {
      await current.connect();
      await current.query(`LISTEN ${FEED_CHANNEL}`);
    } catch (error) {
      lost(current, error instanceof Error ? error.message : String(error));
      return;
    }
    if (closed || client !== current) return;
    delay = base;
    if (connectedOnce) options.onResumed?.();
    connectedOnce = true;
    markReady();
  };

  void connect();
  return {
    ready,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const current = client;
      client = null;
      markReady();
      await current?.end().catch(() => {});
    },
  };
}
