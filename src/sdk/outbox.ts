/**
 * The outbox: messages I sent that the server has not acknowledged yet. Each gets its `clientId`
 * once, when it is written; every retry (after a timeout, a reconnect, or a page reload) uses the
 * same one, and the server stores a `clientId` only once, so each message appears exactly once.
 */
import { type KeyValueStorage, readJson, writeJson } from "./storage.js";

/** A message waiting to be sent. `failed` ones wait for the user to retry or discard them. */
export interface OutboxItem {
  clientId: string;
  roomId: string;
  body: string;
  replyToId: string | null;
  /** uploaded files to attach (from `uploadFile`); missing in outboxes written before files existed */
  fileIds?: string[];
  /** (v2.4) notify at once, past working and quiet hours; missing when not urgent */
  urgent?: boolean;
  /** when it was written, ISO-8601 */
  createdAt: string;
  state: "queued" | "failed";
  /** why it failed (only when `failed`) */
  error?: { code: string; message: string };
}

function isItemList(value: unknown): value is OutboxItem[] {
  return (
    Array.isArray(value) &&
    value.every(
      (i) =>
        typeof i === "object" &&
        i !== null &&
        typeof (i as OutboxItem).clientId === "string" &&
        typeof (i as OutboxItem).roomId === "string" &&
        typeof (i as OutboxItem).body === "string" &&
        ((i as OutboxItem).fileIds === undefined ||
          (Array.isArray((i as OutboxItem).fileIds) &&
            (i as OutboxItem).fileIds?.every((id) => typeof id === "string"))) &&
        ((i as OutboxItem).urgent === undefined || typeof (i as OutboxItem).urgent === "boolean"),
    )
  );
}

export class Outbox {
  private list: OutboxItem[] = [];
  private key: string | null = null;
  /** Items this client finished with: never written back, even if another tab still lists them. */
  private readonly done = new Set<string>();

  constructor(private readonly storage: KeyValueStorage) {}

  /**
   * Binds the outbox to one user's storage key (known once the session arrives) and merges what
   * an earlier page left there with anything written before the key was known.
   */
  open(key: string): void {
    if (this.key === key) return;
    this.key = key;
    const stored = readJson(this.storage, key, isItemList) ?? [];
    const mine = new Set(this.list.map((i) => i.clientId));
    this.list = [...stored.filter((i) => !mine.has(i.clientId)), ...this.list].sort((a, b) =>
      a.createdAt.localeCompare(b.createdAt),
    );
    this.save();
  }

  items(): readonly OutboxItem[] {
    return this.list;
  }

  /** The next item to send, oldest first. */
  next(): OutboxItem | undefined {
    return this.list.find((i) => i.state === "queued");
  }

  add(item: OutboxItem): void {
    this.list.push(item);
    this.save();
  }

  /** The server stored it: forget it. */
  remove(clientId: string): void {
    this.done.add(clientId);
    this.list = this.list.filter((i) => i.clientId !== clientId);
    this.save();
  }

  fail(clientId: string, error: { code: string; message: string }): void {
    this.list = this.list.map((i) => (i.clientId === clientId ? { ...i, state: "failed", error } : i));
    this.save();
  }

  /** Puts a failed item back in line, keeping its `clientId` (and so its place in history). */
  retry(clientId: string): void {
    this.list = this.list.map((i) => {
      if (i.clientId !== clientId) return i;
      const { error: _, ...rest } = i;
      return { ...rest, state: "queued" };
    });
    this.save();
  }

  /**
   * Writes the list, merged with what other tabs of the same user wrote meanwhile, so one tab
   * does not wipe out another's unsent messages.
   */
  private save(): void {
    if (this.key === null) return;
    const stored = readJson(this.storage, this.key, isItemList) ?? [];
    const mine = new Set(this.list.map((i) => i.clientId));
    const others = stored.filter((i) => !mine.has(i.clientId) && !this.done.has(i.clientId));
    if (others.length === 0 && this.list.length === 0) {
      this.storage.removeItem(this.key);
      return;
    }
    writeJson(this.storage, this.key, [...others, ...this.list]);
  }
}
