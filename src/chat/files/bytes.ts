/**
 * Removing the bytes of deleted files. A file's record goes first, in the same write that keeps
 * its store key in the file deletions (../../storage/files.ts); the bytes go after that write has
 * committed, and only then is the key forgotten. So a crash or a file store failure in between
 * leaves a key the clean-up job (cleanup.ts) removes later, never bytes nothing points at, and
 * never a record whose bytes are gone.
 */
import type { FileStore } from "../../files/store.js";
import type { AsyncChatStore } from "../../storage/async-chat-store.js";

/** Why bytes were removed (the `reason` label of timewise_chat_files_removed_total). */
export type RemovalReason = "message_deleted" | "unattached" | "discarded" | "left_over";

/** S3 deletes at once per batch: enough to be quick, few enough not to flood the service. */
const PARALLEL = 8;

export class FileBytes {
  constructor(
    private readonly store: Pick<AsyncChatStore, "forgetFileDeletions">,
    private readonly files: Pick<FileStore, "delete">,
    private readonly hooks: {
      /** `count` files' bytes were removed, for `reason` */
      removed?: (reason: RemovalReason, count: number) => void;
      /** a delete or the forgetting failed: logged, and the clean-up tries again */
      problem?: (error: unknown) => void;
    } = {},
  ) {}

  /**
   * Removes the bytes under `keys` and forgets their deletions. Never rejects: a key whose bytes
   * could not be removed stays in the file deletions. Resolves with how many were removed.
   */
  async remove(keys: readonly string[], reason: RemovalReason): Promise<number> {
    const removed: string[] = [];
    for (let i = 0; i < keys.length; i += PARALLEL) {
      const chunk = keys.slice(i, i + PARALLEL);
      const results = await Promise.allSettled(chunk.map((key) => this.files.delete(key)));
      results.forEach((result, j) => {
        if (result.status === "fulfilled") removed.push(chunk[j]!);
        else this.hooks.problem?.(result.reason);
      });
    }
    if (removed.length > 0) this.hooks.removed?.(reason, removed.length);
    try {
      await this.store.forgetFileDeletions(removed);
    } catch (error) {
      // the bytes are gone; the clean-up finds the keys again, and deleting missing bytes is fine
      this.hooks.problem?.(error);
    }
    return removed.length;
  }
}
