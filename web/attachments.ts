/**
 * Files picked for the next message: each starts uploading as soon as it is picked (attach
 * button, drop or paste), shows its progress, and can be cancelled or removed before sending.
 * Lives in the open room's view, so leaving the room cancels what is still on its way.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { type ChatFile, LIMITS } from "../src/sdk/index.js";
import { uploadErrorText } from "./files.js";
import { useClient } from "./hooks.js";

export interface Attachment {
  key: number;
  name: string;
  size: number;
  /** 0–1 while uploading */
  progress: number;
  state: "uploading" | "ready" | "failed";
  /** the stored file, once ready */
  file: ChatFile | null;
  /** why it failed, in everyday words */
  error: string | null;
  /** a failure that may pass (no connection, busy server): it can be tried again */
  retryable: boolean;
}

export interface Attachments {
  items: Attachment[];
  /** a notice about files that were not taken (too many at once) */
  notice: string | null;
  add(files: Iterable<File>): void;
  /** cancels the upload if it is still going, and drops the file from the message */
  remove(key: number): void;
  /** uploads a failed file again */
  retry(key: number): void;
  /** the ids to send, once nothing is uploading any more */
  readyIds(): string[];
  uploading: boolean;
  clear(): void;
}

export function useAttachments(): Attachments {
  const client = useClient();
  const [items, setItems] = useState<Attachment[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const controllers = useRef(new Map<number, AbortController>());
  const nextKey = useRef(0);
  /** the picked files, kept for Try again */
  const sources = useRef(new Map<number, File>());

  // leaving the room: whatever is still uploading is not wanted any more
  useEffect(
    () => () => {
      for (const controller of controllers.current.values()) controller.abort();
    },
    [],
  );

  const update = (key: number, change: Partial<Attachment>) =>
    setItems((list) => list.map((a) => (a.key === key ? { ...a, ...change } : a)));

  const upload = (key: number, file: File) => {
    const controller = new AbortController();
    controllers.current.set(key, controller);
    client
      .uploadFile(file, {
        signal: controller.signal,
        onProgress: ({ loaded, total }) => update(key, { progress: total > 0 ? loaded / total : 0 }),
      })
      .then(
        (stored) => {
          sources.current.delete(key);
          update(key, { state: "ready", progress: 1, file: stored });
        },
        (error: unknown) => {
          if (error instanceof Error && error.name === "AbortError") return; // cancelled: already gone
          const code = (error as { code?: unknown }).code;
          update(key, {
            state: "failed",
            error: uploadErrorText(error, file.name || "The file"),
            retryable: code === "UNAVAILABLE" || code === "RATE_LIMITED",
          });
        },
      )
      .finally(() => controllers.current.delete(key));
  };

  const start = (file: File): Attachment => {
    const key = ++nextKey.current;
    sources.current.set(key, file);
    upload(key, file);
    const name = file.name || "file";
    return {
      key,
      name,
      size: file.size,
      progress: 0,
      state: "uploading",
      file: null,
      error: null,
      retryable: false,
    };
  };

  return {
    items,
    notice,
    add(files) {
      const picked = [...files];
      if (picked.length === 0) return;
      const room = LIMITS.filesPerMessage - items.filter((a) => a.state !== "failed").length;
      const taken = picked.slice(0, Math.max(0, room));
      setNotice(
        taken.length < picked.length
          ? `You can send up to ${LIMITS.filesPerMessage} files in one message. Send these first, then add the rest.`
          : null,
      );
      const added = taken.map(start);
      setItems((list) => [...list, ...added]);
    },
    remove(key) {
      controllers.current.get(key)?.abort();
      sources.current.delete(key);
      setNotice(null);
      setItems((list) => list.filter((a) => a.key !== key));
    },
    retry(key) {
      const file = sources.current.get(key);
      if (!file) return;
      update(key, { state: "uploading", progress: 0, error: null, retryable: false });
      upload(key, file);
    },
    readyIds: () => items.flatMap((a) => (a.state === "ready" && a.file ? [a.file.id] : [])),
    uploading: items.some((a) => a.state === "uploading"),
    clear() {
      sources.current.clear();
      setNotice(null);
      setItems([]);
    },
  };
}
