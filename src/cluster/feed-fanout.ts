/**
 * Fan-out from PostgreSQL's commit feed: every node LISTENs (src/storage/postgres/feed.ts) and
 * tells its OWN sockets (`io.local`) about each committed change, in commit order. So sockets on
 * every node see a room's events in the room's order (never seq 96 before 95 because two nodes
 * committed them), and a message a node committed but died before sending still reaches everyone.
 * The writing node therefore sends none of these events through the Redis adapter: it would be a
 * second copy. Typing and presence are not in the database and still go through the adapter.
 *
 * Each room has a queue, so its events stay in order even when one needs a read (a message too big
 * to travel inline, a membership change). The last rev passed on per room tells a gap (a message
 * event whose rev is not the next one, or a lost LISTEN connection), which is filled from the
 * database with the same read as `message:changes`.
 *
 * A message with files (and a `room:updated` whose last message has files) goes to each user's
 * sockets here with links signed for that user; everything else is encoded once per channel.
 */
import { randomUUID } from "node:crypto";
import { sharedRoom } from "../chat/rooms/view.js";
import { type ScopeKey, type Scopes, scopeKey } from "../chat/scopes.js";
import type { FileLinks } from "../files/links.js";
import type { Logger } from "../logger.js";
import type { Message, SharedRoom } from "../protocol/index.js";
import { Fanout, roomChannel, roomScopeChannel, userChannel } from "../realtime/fanout.js";
import type { ChatServer, ServerSocket } from "../realtime/types.js";
import type { FeedEvent, Listener } from "../storage/postgres/feed.js";
import type { PostgresChatStore } from "../storage/postgres/postgres-chat-store.js";

export interface FeedFanoutOptions {
  store: PostgresChatStore;
  scopes: Scopes;
  /** signs each user's file links */
  links: FileLinks;
  logger: Logger;
  /** the longest a write waits for this node to pass its events on before it is answered anyway (default 2000 ms) */
  waitMs?: number;
  /** first wait before listening again after the connection was lost (feed.ts's default otherwise) */
  retryDelayMs?: number;
}

/** A room's position in the feed: the last rev and the highest seq passed on to its sockets. */
interface RoomPosition {
  rev: number;
  seq: number;
}

type Job = () => void | Promise<void>;

/** Where `server.local.to(…)` sends. */
type LocalTarget = ReturnType<ChatServer["local"]["to"]>;

/** Changes read per query when a gap is filled. */
const FILL_PAGE = 500;
/**
 * Rooms re-read at the same time after the LISTEN connection came back. Every node resumes at
 * once after a database restart: unbounded, a node serving thousands of rooms would queue
 * thousands of reads on its pool, where they (and the live requests behind them) would wait
 * past the pool's connection timeout and fail. A few at a time keeps connections for the live work.
 */
const RESUME_CONCURRENCY = 4;

/** The event clients get for a message change of the feed. */
function eventName(event: FeedEvent): "message:new" | "message:updated" | "message:deleted" {
  if (event.change === "deleted") return "message:deleted";
  return event.change === "updated" ? "message:updated" : "message:new";
}

export class FeedFanout extends Fanout {
  private listener: Listener | null = null;
  private listening = false;
  private readonly node = randomUUID();
  private counter = 0;
  /** writes of this node waiting for their events to be passed on, by tag */
  private readonly waiting = new Map<string, () => void>();
  private readonly positions = new Map<string, RoomPosition>();
  /** per room (or user, for revocations): the jobs behind the one running now */
  private readonly queues = new Map<string, Job[]>();
  /** rooms whose re-read after a lost LISTEN connection is queued and not yet started */
  private readonly resumePending = new Set<string>();
  /** free places for re-reads, and the re-reads waiting for one */
  private resumeSlots = RESUME_CONCURRENCY;
  private readonly resumeWaiters: (() => void)[] = [];

  constructor(
    private readonly server: ChatServer,
    private readonly options: FeedFanoutOptions,
  ) {
    // the feed passes messages on to this node's sockets itself: the members of rooms are not needed
    super(server, options.links, () => []);
  }

  /** Starts listening; resolves once the first LISTEN is in place, so no commit after it is missed. */
  async start(): Promise<void> {
    const { store, logger } = this.options;
    const waitMs = this.options.waitMs ?? 2000;
    store.onCommit({
      tag: (event) => {
        const tag = `${this.node}:${++this.counter}`;
        // not listening: nothing would ever release the write, so it is not held at all
        if (!this.listening) return event;
        const timer = setTimeout(() => this.release(tag), waitMs);
        timer.unref();
        this.waiting.set(tag, () => clearTimeout(timer));
        return { ...event, tag };
      },
      committed: (events) => this.passedOn(events),
    });
    this.listener = store.listenFeed({
      onEvent: (event) => this.heard(event),
      onLost: () => {
        this.listening = false;
        // what they wait for may have been lost with the connection; answer them now
        for (const tag of [...this.waiting.keys()]) this.release(tag);
      },
      onResumed: () => {
        this.listening = true;
        this.resume();
      },
      onProblem: (message) => logger.warn(message),
      ...(this.options.retryDelayMs === undefined ? {} : { retryDelayMs: this.options.retryDelayMs }),
    });
    await this.listener.ready;
    this.listening = true;
  }

  /** Stops listening; writes still waiting are answered at once. */
  async stop(): Promise<void> {
    this.options.store.onCommit(null);
    this.listening = false;
    for (const tag of [...this.waiting.keys()]) this.release(tag);
    await this.listener?.close();
    this.listener = null;
  }

  // What the services call after a write: the feed brings these to every node, this one included.
  override messageNew(_message: Message): void {}
  override messageUpdated(_message: Message): void {}
  override messageDeleted(_message: Message): void {}
  override roomUpdated(_room: SharedRoom, _scope?: ScopeKey): void {}
  override join(): void {}
  override remove(): void {}
  override disconnectUser(_userId: string): void {}

  /**
   * With USERS_SCOPE_COLUMN, a read receipt goes to the reader's scope only, and that scope comes
   * from the reader's session on the writing node: other nodes would need a directory lookup for
   * every receipt to know it. So scoped receipts keep going through the adapter from the writing
   * node; unscoped ones come from the feed like everything else.
   */
  override roomRead(roomId: string, userId: string, seq: number, scope?: ScopeKey): void {
    if (scope !== undefined) super.roomRead(roomId, userId, seq, scope);
  }

  /**
   * After a lost LISTEN connection: every room with a socket here is read again, a few at a time
   * (RESUME_CONCURRENCY), in its own queue so its live events still come after its gap. Rooms
   * without sockets here are not read at all. A room whose re-read is still queued from an
   * earlier loss is not queued twice.
   */
  private resume(): void {
    const rooms = new Set([...this.localRooms(), ...this.positions.keys()]);
    const queued = [...rooms].filter((roomId) => !this.resumePending.has(roomId));
    this.options.logger.info(
      { rooms: queued.length, atOnce: RESUME_CONCURRENCY },
      "commit feed listening again; filling the gap from the database",
    );
    for (const roomId of queued) {
      this.resumePending.add(roomId);
      this.enqueue(roomId, () =>
        this.inResumeSlot(async () => {
          this.resumePending.delete(roomId);
          // membership changes of the gap: sockets here join or leave as the room is now
          if (this.hasLocalSockets(roomId)) await this.onRoom(roomId, false);
          await this.fill(roomId);
        }),
      );
    }
  }

  /** Runs `work` once fewer than RESUME_CONCURRENCY re-reads are running. */
  private async inResumeSlot(work: () => Promise<void>): Promise<void> {
    if (this.resumeSlots > 0) this.resumeSlots--;
    else await new Promise<void>((resolve) => this.resumeWaiters.push(resolve));
    try {
      await work();
    } finally {
      // the place goes straight to the next waiter, or back to the free ones
      const next = this.resumeWaiters.shift();
      if (next) next();
      else this.resumeSlots++;
    }
  }

  /** Resolves once every tagged event was passed on here (or its wait ran out). */
  /**
   * Resolves once every tagged event was passed on here (or its wait ran out). The writer has its
   * committed events in hand, so one that comes next in its room (the rev after the last one
   * passed on here) is passed on at once, without waiting for the feed to bring it back; the
   * feed's copy then finds it passed on. Any other (a gap: another node's earlier commit is still
   * on its way; the room's queue is busy; a room not followed yet) waits for the feed as before.
   */
  private passedOn(events: readonly FeedEvent[]): Promise<void> {
    const pending = events.flatMap((event) => {
      const tag = event.tag;
      if (tag === undefined || !this.waiting.has(tag)) return [];
      if (this.passOnOwn(event)) {
        this.release(tag);
        return [];
      }
      return [
        new Promise<void>((resolve) => {
          const stopTimer = this.waiting.get(tag)!;
          this.waiting.set(tag, () => {
            stopTimer();
            resolve();
          });
        }),
      ];
    });
    return pending.length === 0 ? Promise.resolve() : Promise.all(pending).then(() => {});
  }

  /** Passes on a committed event of this node now, if that keeps its room in order; false: wait for the feed. */
  private passOnOwn(event: FeedEvent): boolean {
    const { roomId, rev, message } = event;
    if (event.kind !== "message" || roomId === null || rev === null || message === undefined) return false;
    if (this.queues.has(roomId)) return false; // behind a read (a membership change, a fill)
    if (!this.hasLocalSockets(roomId)) return true; // nobody here to tell
    const at = this.positions.get(roomId);
    if (!at || rev > at.rev + 1) return false;
    if (rev === at.rev + 1) this.emitMessage(eventName(event), message);
    return true;
  }

  private release(tag: string): void {
    const done = this.waiting.get(tag);
    this.waiting.delete(tag);
    done?.();
  }

  /** One event of the feed, in commit order. */
  private heard(event: FeedEvent): void {
    const finish = () => {
      if (event.tag !== undefined) this.release(event.tag);
    };
    if (event.kind === "revocation") {
      if (event.userId !== undefined) this.endSessions(event.userId);
      finish();
      return;
    }
    const roomId = event.roomId;
    if (roomId === null) {
      finish();
      return;
    }
    this.enqueue(roomId, async () => {
      try {
        if (event.kind === "message") await this.onMessage(roomId, event);
        else if (event.kind === "room") await this.onRoom(roomId);
        else this.onRead(roomId, event);
      } finally {
        finish();
      }
    });
  }

  /**
   * Runs `job` after the jobs already queued for `key`; at once (in the same turn) when none is,
   * so an event that needs no read is passed on without delay.
   */
  private enqueue(key: string, job: Job): void {
    const queued = this.queues.get(key);
    if (queued) {
      queued.push(job);
      return;
    }
    const first = this.attempt(job);
    if (!first) return;
    const rest: Job[] = [];
    this.queues.set(key, rest);
    void (async () => {
      await first;
      for (let next = rest.shift(); next; next = rest.shift()) await this.attempt(next);
      this.queues.delete(key);
    })();
  }

  /** Runs a job; a failure is logged and never stops the jobs after it. */
  private attempt(job: Job): Promise<void> | null {
    try {
      const result = job();
      if (!result) return null;
      return result.catch((err: unknown) => this.options.logger.warn({ err }, "commit feed fan-out failed"));
    } catch (err) {
      this.options.logger.warn({ err }, "commit feed fan-out failed");
      return null;
    }
  }

  /** Sockets of this node in a channel. */
  private localSockets(channel: string): ServerSocket[] {
    const ids = this.server.sockets.adapter.rooms.get(channel);
    if (!ids) return [];
    const sockets: ServerSocket[] = [];
    for (const id of ids) {
      const socket = this.server.sockets.sockets.get(id);
      if (socket) sockets.push(socket);
    }
    return sockets;
  }

  /** The rooms some socket of this node is in. */
  private localRooms(): string[] {
    const prefix = roomChannel("");
    const ids: string[] = [];
    for (const [channel, sockets] of this.server.sockets.adapter.rooms) {
      if (channel.startsWith(prefix) && sockets.size > 0) ids.push(channel.slice(prefix.length));
    }
    return ids;
  }

  private hasLocalSockets(roomId: string): boolean {
    return (this.server.sockets.adapter.rooms.get(roomChannel(roomId))?.size ?? 0) > 0;
  }

  /**
   * Calls `each` once per user with sockets here in `channel`, with a target reaching exactly
   * those sockets (each socket is alone in the channel named by its id).
   */
  private perUser(channel: string, each: (target: LocalTarget, userId: string) => void): void {
    const byUser = new Map<string, string[]>();
    for (const socket of this.localSockets(channel)) {
      const ids = byUser.get(socket.data.user.id);
      if (ids) ids.push(socket.id);
      else byUser.set(socket.data.user.id, [socket.id]);
    }
    for (const [userId, socketIds] of byUser) each(this.server.local.to(socketIds), userId);
  }

  /** `room:updated` to the sockets here in `channel`, with each user's links when it needs them. */
  private emitRoom(channel: string, room: SharedRoom): void {
    if (!room.lastMessage?.files.length) {
      this.server.local.to(channel).emit("room:updated", room);
      return;
    }
    this.perUser(channel, (target, userId) =>
      target.emit("room:updated", this.options.links.room(room, userId)),
    );
  }

  private emitMessage(event: "message:new" | "message:updated" | "message:deleted", message: Message): void {
    const channel = roomChannel(message.roomId);
    if (message.files.length === 0) this.server.local.to(channel).emit(event, message);
    else {
      this.perUser(channel, (target, userId) =>
        target.emit(event, this.options.links.message(message, userId)),
      );
    }
    const at = this.positions.get(message.roomId);
    this.positions.set(message.roomId, {
      rev: Math.max(at?.rev ?? 0, message.rev),
      seq: Math.max(at?.seq ?? 0, message.seq),
    });
  }

  private async onMessage(roomId: string, event: FeedEvent): Promise<void> {
    const rev = event.rev;
    if (rev === null) return;
    if (!this.hasLocalSockets(roomId)) {
      // nobody here to tell; forgetting the room keeps the map to the rooms this node serves
      this.positions.delete(roomId);
      return;
    }
    const at = this.positions.get(roomId);
    if (at && rev <= at.rev) return; // a gap fill already passed it on
    if (at && rev > at.rev + 1) {
      await this.fill(roomId); // the fill reads this one too
      return;
    }
    const name = eventName(event);
    if (event.message) {
      this.emitMessage(name, event.message);
      return;
    }
    // too big to travel inline: read it back by its rev
    const { messages } = await this.options.store.changes(roomId, rev - 1, 1);
    const message = messages[0];
    // changed again since: a later event carries it, with its new rev
    if (message?.rev === rev) this.emitMessage(name, message);
    else this.positions.set(roomId, { rev, seq: at?.seq ?? 0 });
  }

  /** Passes on every change of a room after its last known rev, as `message:changes` reads them. */
  private async fill(roomId: string): Promise<void> {
    const at = this.positions.get(roomId);
    if (!at) return;
    if (!this.hasLocalSockets(roomId)) {
      this.positions.delete(roomId);
      return;
    }
    let sinceRev = at.rev;
    let filled = 0;
    for (;;) {
      const page = await this.options.store.changes(roomId, sinceRev, FILL_PAGE);
      filled += page.messages.length;
      for (const message of page.messages) {
        const seen = this.positions.get(roomId)?.seq ?? 0;
        const name = message.deleted
          ? "message:deleted"
          : message.seq > seen
            ? "message:new"
            : "message:updated";
        this.emitMessage(name, message);
      }
      const now = this.positions.get(roomId);
      this.positions.set(roomId, { rev: Math.max(now?.rev ?? 0, page.rev), seq: now?.seq ?? 0 });
      if (!page.hasMore) break;
      sinceRev = page.rev;
    }
    if (filled > 0) this.options.logger.info({ roomId, changes: filled }, "commit feed gap filled");
  }

  /**
   * A room's name or members changed. Read as it is now: this node's sockets of members join its
   * channels, sockets of users no longer in it leave them and are told `room:removed`, and the
   * members here get `room:updated` (with USERS_SCOPE_COLUMN, one view per scope). `announce`
   * false: only the channels (after a lost LISTEN connection, when what changed is not known).
   */
  private async onRoom(roomId: string, announce = true): Promise<void> {
    const { store, scopes } = this.options;
    const room = await store.room(roomId);
    const members = room?.members;
    const gone = new Set<string>();
    for (const socket of this.localSockets(roomChannel(roomId))) {
      if (!members?.has(socket.data.user.id)) gone.add(socket.data.user.id);
    }
    for (const userId of gone) {
      for (const socket of this.localSockets(userChannel(userId))) {
        socket.leave(roomChannel(roomId));
        if (scopes.enabled) socket.leave(roomScopeChannel(roomId, scopeKey(socket.data.user.scope)));
      }
      this.server.local.to(userChannel(userId)).emit("room:removed", { roomId });
    }
    if (!room) return;
    let here = false;
    for (const userId of room.members.keys()) {
      for (const socket of this.localSockets(userChannel(userId))) {
        here = true;
        const channels = [roomChannel(roomId)];
        if (scopes.enabled) channels.push(roomScopeChannel(roomId, scopeKey(socket.data.user.scope)));
        socket.join(channels);
      }
    }
    if (!here || !announce) return;
    if (!scopes.enabled) {
      this.emitRoom(roomChannel(roomId), await sharedRoom(room, store));
      return;
    }
    const keys = await scopes.of(room.members.keys());
    for (const scope of new Set(keys.values())) {
      const channel = roomScopeChannel(roomId, scope);
      if (this.localSockets(channel).length === 0) continue;
      const view = await sharedRoom(room, store, { visible: (id) => keys.get(id) === scope });
      this.emitRoom(channel, view);
    }
  }

  private onRead(roomId: string, event: FeedEvent): void {
    // scoped receipts come through the adapter (see roomRead)
    if (this.options.scopes.enabled || event.userId === undefined || event.seq === undefined) return;
    this.server.local
      .to(roomChannel(roomId))
      .emit("room:read", { roomId, userId: event.userId, seq: event.seq });
  }

  /** The user's tokens were revoked (server API "disconnect"): their sockets here end. */
  private endSessions(userId: string): void {
    // told why first, as the re-check does
    this.server.local.to(userChannel(userId)).emit("session:ended", { code: "AUTH_INVALID" });
    this.server.local.in(userChannel(userId)).disconnectSockets(true);
  }
}
