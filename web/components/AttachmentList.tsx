/**
 * The files picked for the next message, as chips above the text box: name, size, a progress bar
 * with Cancel while uploading, a Remove button once uploaded, and the reason when it failed.
 */
import type { Attachments } from "../attachments.js";
import { formatSize } from "../files.js";

export function AttachmentList({ attachments }: { attachments: Attachments }) {
  const { items, notice } = attachments;
  if (items.length === 0 && !notice) return null;
  return (
    <div class="attachments">
      {notice && (
        <p class="error" role="alert">
          {notice}
        </p>
      )}
      {items.length > 0 && (
        <ul class="attachment-list" aria-label="Files to send">
          {items.map((a) => (
            <li key={a.key} class={`attachment ${a.state}`}>
              <span class="attachment-name" title={a.name}>
                <bdi>{a.name}</bdi>
              </span>
              <span class="attachment-size">{formatSize(a.size)}</span>
              {a.state === "uploading" && (
                <progress max={100} value={Math.round(a.progress * 100)} aria-label={`Uploading ${a.name}`} />
              )}
              {a.retryable && (
                <button type="button" class="attachment-retry" onClick={() => attachments.retry(a.key)}>
                  Try again
                </button>
              )}
              <button
                type="button"
                class="icon-button"
                aria-label={a.state === "uploading" ? `Cancel uploading ${a.name}` : `Remove ${a.name}`}
                title={a.state === "uploading" ? "Cancel" : "Remove"}
                onClick={() => attachments.remove(a.key)}
              >
                ×
              </button>
              {a.error && (
                <p class="error attachment-error" role="alert">
                  {a.error}
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
