/**
 * The TimeWise Chat client: one Socket.io connection, a promise for every request, typed events,
 * an outbox that sends every message exactly once, automatic catch-up after a reconnect, and the
 * local state a UI renders from. Works in browsers and in Node.
 */
import type { ManagerOptions, SocketOptions } from "socket.io-client";
import {
  type ChatFile,
  LIMITS,
  type Message,
  type PushSubscribeInput,
  type QuietHours,
  type RequestEvent,
  type Requests,
  type Room,
  type ServerToClientEvents,
  type UserPrefs,
} from "../protocol/index.js";
import { type ChatSocket, Connection, type TokenReason } from "./connection.js";
import { Emitter } from "./emitter.js";
import { ChatAuthError, ChatTimeoutError } from "./errors.js";
import { GapFiller } from "./gap-fill.js";
import { Outbox } from "./outbox.js";
import { fetchPushKey, removePushSubscription, savePushSubscription } from "./push.js";
import { applyAnswer, emitRequest } from "./requests.js";
import { Sender } from "./sender.js";
import { defaultStorage, type KeyValueStorage } from "./storage.js";
import { ChatState, type ConnectionStatus } from "./store.js";
import { catchUp, wireEvents } from "./sync.js";
import { sendFile, type UploadOptions } from "./upload.js";

export type { ChatSocket, TokenReason };

export interface ChatClientOptions {
  /** The chat server's address, e.g. `https://chat.example.com` (HTTP and Socket.io share it). */
  url: string;
  /** A token for the handshake. Use `getToken` instead when tokens are short-lived. */
  token?: string;
  /**
   * Called before every connection attempt. After the server refused a token as expired or
   * invalid, ended the session, or when the token is about to expire (a minute before), it is
   * called with `"refresh"`: fetch a new one from the PHP app then.
   */
  getToken?: (reason: TokenReason) => string | Promise<string>;
  /** Where the outbox survives reloads; `localStorage` in a browser, memory elsewhere. */
  storage?: KeyValueStorage;
  /** How long a request waits for its answer (and for the connection), in ms. Default 10 000. */
  requestTimeoutMs?: number;
  /** Messages per `message:changes` call while catching up (1–500). Default 200. */
  changesPageSize?: number;
  /** Messages per history page (1–100). Default 50. */
  historyPageSize?: number;
  /** Rooms per `room:list` page while catching up (1–200). Default 200. */
  roomsPageSize?: number;
  /** Passed on to socket.io-client (transports, reconnection delays, …). */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
  /** The clock in milliseconds, for when to refresh the token (tests). Default `Date.now`. */
  now?: () => number;
}

/** Events of the client itself, besides every server event (`message:new`, `typing`, …). */
export interface ClientEvents {
  /** The local state changed: render again. */
  change: () => void;
  status: (status: ConnectionStatus) => void;
  /** The server refused the token and no new one could be had: sign in again. */
  "auth-error": (error: ChatAuthError) => void;
  /** Catch-up after a (re)connect is done: the state matches the server. */
  synced: () => void;
}

/** How long to wait before running a failed catch-up again while still connected. */
const CATCH_UP_RETRY_MS = 1000;

export class ChatClient extends Emitter<ClientEvents & ServerToClientEvents> {
  readonly state: ChatState;
  readonly outbox: Outbox;
  readonly options: Required<
    Pick<ChatClientOptions, "requestTimeoutMs" | "changesPageSize" | "historyPageSize" | "roomsPageSize">
  >;
  /** Fetches what live events skipped (a jump in a room's `rev`) while connected. */
  readonly gaps: GapFiller = new GapFiller(this);
  /** Bumped on every session, so a catch-up overtaken by a newer session stops. */
  sessionGeneration = 0;
  private readonly connection: Connection;
  private readonly sender: Sender;
  private closed = false;
  private synced = false;
  /** what `setVisible` last said, sent again on each new connection */
  private visible = false;

  constructor(private readonly config: ChatClientOptions) {
    super();
    this.options = {
      requestTimeoutMs: config.requestTimeoutMs ?? 10_000,
      changesPageSize: config.changesPageSize ?? 200,
      historyPageSize: config.historyPageSize ?? 50,
      roomsPageSize: config.roomsPageSize ?? LIMITS.roomPageMax,
    };
    this.outbox = new Outbox(config.storage ?? defaultStorage());
    this.state = new ChatState(this.outbox);
    this.state.subscribe(() => this.emit("change"));
    this.sender = new Sender(this);
    this.connection = new Connection(config, {
      session: (user) => this.onSession(user),
      disconnected: () => {
        this.synced = false;
        this.state.beginCatchUp();
      },
      status: (status) => {
        this.state.status = status;
        this.emit("status", status);
        this.state.changed();
      },
      authError: (error) => this.emit("auth-error", error),
    });
    wireEvents(this, (event, ...args) => this.emit(event, ...args));
  }

  /** The Socket.io socket, typed with the contract's events. */
  get socket(): ChatSocket {
    return this.connection.socket;
  }

  get status(): ConnectionStatus {
    return this.state.status;
  }

  /**
   * Sends a request event and resolves with its result; rejects with a `ChatError` carrying the
   * contract's code, or a `ChatTimeoutError`. Waits for the connection (up to the timeout) first.
   * Answers that carry a room or a message are applied to the local state before resolving.
   */
  async request<E extends RequestEvent>(
    event: E,
    input: Requests[E]["input"],
    options: { timeoutMs?: number } = {},
  ): Promise<Requests[E]["result"]> {
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
    const started = Date.now();
    await this.connection.whenOnline(timeoutMs, event);
    const left = Math.max(1, timeoutMs - (Date.now() - started));
    const result = await emitRequest(this.socket, event, input, left);
    const stale = applyAnswer(this.state, event, input, result);
    if (stale) void this.refreshRoom(stale);
    this.state.changed();
    return result;
  }

  /**
   * Queues a message and sends it as soon as possible; it shows at once in `state.pending`.
   * Resolves with the stored message; rejects only when the server refuses it for good (it then
   * stays in the outbox as `failed`, for `retry` or `discard`).
   * (v2.4) `urgent: true` notifies every member at once, past their working and quiet hours; only
   * a group's owner or admins may (anyone else gets `FORBIDDEN`).
   */
  send(
    roomId: string,
    body: string,
    options: { replyToId?: string | null; fileIds?: readonly string[]; urgent?: boolean } = {},
  ): Promise<Message> {
    return this.sender.send(
      roomId,
      body,
      options.replyToId ?? null,
      [...(options.fileIds ?? [])],
      options.urgent === true,
    );
  }

  /**
   * (v2.4) Sets my quiet hours: every day from `from` to `to` ("HH:MM" in `timeZone`; past midnight
   * when `to` is earlier), no email or push then. `null` removes them. Resolves with my prefs.
   */
  async setQuietHours(quietHours: QuietHours | null): Promise<UserPrefs> {
    return (await this.request("user:prefs:set", { quietHours })).prefs;
  }

  /**
   * Uploads a file (a browser `File`, or any `Blob`) to `POST /api/files`; resolves with the
   * stored file, whose `id` goes into `send(roomId, body, { fileIds })`. Rejects with a
   * `ChatError` (`PAYLOAD_TOO_LARGE`, `QUOTA_EXCEEDED`, `RATE_LIMITED`, `UNAVAILABLE`, …), a
   * `ChatAuthError`, or a DOMException named `AbortError` once `signal` aborts. It does not wait
   * for the socket: an upload needs only the token.
   */
  async uploadFile(file: Blob, options: UploadOptions = {}): Promise<ChatFile> {
    const token = await this.connection.httpToken();
    try {
      return await sendFile({ url: this.config.url, token }, file, options);
    } catch (error) {
      const expired = error instanceof ChatAuthError && error.code === "AUTH_EXPIRED";
      // an expired token is refused before any byte of the file is read: send it once more
      if (!expired || !this.config.getToken) throw error;
      const fresh = await this.connection.httpToken("refresh");
      return sendFile({ url: this.config.url, token: fresh }, file, options);
    }
  }

  /** (v2.3) The VAPID public key to subscribe with: `pushManager.subscribe({ applicationServerKey })`. */
  async pushKey(): Promise<string> {
    return fetchPushKey({ url: this.config.url, token: await this.connection.httpToken() });
  }

  /**
   * (v2.3) Saves this browser's push subscription (`subscription.toJSON()`) for me. Rejects with a
   * `ChatError` of `CONFLICT` when I already get pushes in the most browsers allowed.
   */
  async subscribePush(subscription: PushSubscribeInput): Promise<void> {
    await savePushSubscription(
      { url: this.config.url, token: await this.connection.httpToken() },
      subscription,
    );
  }

  /** (v2.3) Removes my push subscription at `endpoint`; `NOT_FOUND` when there is none. */
  async unsubscribePush(endpoint: string): Promise<void> {
    await removePushSubscription(
      { url: this.config.url, token: await this.connection.httpToken() },
      endpoint,
    );
  }

  /**
   * (extension) Tells the server whether this tab is visible (`presence:visibility`), so it sends
   * no Web Push while I am looking. Said again after every reconnection; a tab that never calls
   * this counts as hidden.
   */
  setVisible(visible: boolean): void {
    this.visible = visible;
    if (this.status === "online") this.connection.socket.emit("presence:visibility", { visible });
  }

  /** Tries a failed message again, with its original `clientId`. */
  retry(clientId: string): void {
    this.sender.retry(clientId);
  }

  /** Drops a message from the outbox without sending it. */
  discard(clientId: string): void {
    this.sender.discard(clientId);
  }

  /** Loads a room's newest page of messages, once; live events keep it current from then on. */
  async openRoom(roomId: string): Promise<void> {
    const room = this.state.roomState(roomId);
    if (!room || room.loaded) return;
    room.startLoading();
    try {
      const page = await this.request("message:history", { roomId, limit: this.options.historyPageSize });
      room.addPage(page.messages, page.hasMore);
    } catch (error) {
      room.loaded = false;
      throw error;
    } finally {
      this.state.changed();
    }
  }

  /** Loads the page before the oldest loaded message. Resolves false when there is nothing older. */
  async loadOlder(roomId: string): Promise<boolean> {
    const room = this.state.roomState(roomId);
    const beforeSeq = room?.oldestSeq();
    if (!room || beforeSeq === undefined || !room.hasOlder) return false;
    const page = await this.request("message:history", {
      roomId,
      beforeSeq,
      limit: this.options.historyPageSize,
    });
    room.addPage(page.messages, page.hasMore);
    this.state.changed();
    return page.messages.length > 0;
  }

  /** Moves my read marker to the room's newest message (when it is not there yet). */
  async markRead(roomId: string): Promise<void> {
    const room = this.state.room(roomId);
    if (!room || (room.readSeq >= room.lastSeq && room.unread === 0)) return;
    await this.request("room:read", { roomId, seq: room.lastSeq });
  }

  /** Fetches a room again (its unread count can only be known from the server); failures are ignored. */
  async refreshRoom(roomId: string): Promise<void> {
    await this.request("room:get", { roomId }).catch(() => undefined);
  }

  /**
   * The conversation on a TimeWise record (`recordRoom("timesheet", "2026-W49-7")`), once the PHP
   * app has attached one and made me a member; it is added to `state.rooms`. Rejects with a
   * `ChatError` of code `NOT_FOUND` otherwise (the same whether the record has no room or I am not in it).
   */
  async recordRoom(kind: string, recordId: string): Promise<Room> {
    return (await this.request("room:record", { kind, recordId })).room;
  }

  /** Asks for the presence of these users (missing dots are filled in by later events). */
  async loadPresence(userIds: readonly string[]): Promise<void> {
    const me = this.state.me?.id;
    const ids = [...new Set(userIds)].filter((id) => id !== me).slice(0, LIMITS.presenceIdsMax);
    if (ids.length === 0) return;
    try {
      const { presence } = await this.request("presence:get", { userIds: ids });
      for (const [userId, p] of Object.entries(presence)) this.state.applyPresence(userId, p);
      this.state.changed();
    } catch {
      // presence dots are a nicety: a failure here must not stop the catch-up
    }
  }

  /** Tells the room I am typing (throttled); `false` when I stopped or sent. */
  typing(roomId: string, typing: boolean): void {
    this.sender.typing(roomId, typing);
  }

  /** Replaces the token used for the next connection attempt (the host page got a fresh one). */
  setToken(token: string): void {
    this.connection.setToken(token);
  }

  /**
   * Drops the connection now, e.g. when the browser reports it went offline: the client shows
   * offline at once instead of after the heartbeat times out, and keeps trying to reconnect.
   */
  dropConnection(): void {
    this.connection.drop();
  }

  /** Tries to connect right away instead of waiting for the next reconnect attempt. */
  reconnectNow(): void {
    this.connection.reconnectNow();
  }

  /** Resolves once the client is connected and caught up. */
  ready(timeoutMs = this.options.requestTimeoutMs): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new ChatTimeoutError("ready", timeoutMs));
      }, timeoutMs);
      const off = this.on("synced", () => {
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  /** Closes the connection for good. */
  close(): void {
    this.closed = true;
    this.gaps.close();
    this.sender.close();
    this.connection.close();
    this.state.dispose();
  }

  private onSession(user: { id: string; name: string }): void {
    this.sessionGeneration += 1;
    this.state.me = user;
    this.outbox.open(`twc:outbox:v1:${new URL(this.config.url).host}:${user.id}`);
    this.sender.flush();
    // a new connection starts hidden on the server
    if (this.visible) this.connection.socket.emit("presence:visibility", { visible: true });
    void this.runCatchUp(this.sessionGeneration);
  }

  private async runCatchUp(generation: number): Promise<void> {
    try {
      if (await catchUp(this, generation)) {
        this.synced = true;
        this.emit("synced");
      }
    } catch {
      // A request failed while still connected (busy server): try again. After a disconnect the
      // next session runs its own catch-up instead.
      setTimeout(() => {
        if (!this.closed && generation === this.sessionGeneration && this.status === "online") {
          void this.runCatchUp(generation);
        }
      }, CATCH_UP_RETRY_MS);
    }
  }
}
