/**
 * The files of a message in the timeline: images with a preview as pictures (a click, or Enter,
 * opens the full size; Escape closes it), everything else as a card with its name, size, type
 * and a download link. The links are the server's, used as they are.
 */
import { useState } from "preact/hooks";
import type { ChatFile } from "../../src/sdk/index.js";
import { fileKind, formatSize, hasPreview, previewSize } from "../files.js";
import { Dialog } from "./Dialog.js";

export function MessageFiles({ files }: { files: ChatFile[] }) {
  const [viewing, setViewing] = useState<ChatFile | null>(null);
  if (files.length === 0) return null;
  return (
    <>
      <ul class="msg-files" aria-label={files.length === 1 ? "1 file" : `${files.length} files`}>
        {files.map((file) => (
          <li key={file.id}>
            {hasPreview(file) ? (
              <button
                type="button"
                class="file-image"
                aria-label={`Show ${file.name} full size`}
                onClick={() => setViewing(file)}
              >
                <img src={file.thumbnailUrl} alt={file.name} loading="lazy" {...(previewSize(file) ?? {})} />
              </button>
            ) : (
              <FileCard file={file} />
            )}
          </li>
        ))}
      </ul>
      {viewing && (
        <Dialog title={viewing.name} onClose={() => setViewing(null)}>
          <div class="image-view">
            <img src={viewing.url} alt={viewing.name} />
            <a href={viewing.url} download={viewing.name}>
              Download ({formatSize(viewing.size)})
            </a>
          </div>
        </Dialog>
      )}
    </>
  );
}

function FileCard({ file }: { file: ChatFile }) {
  const { icon, label } = fileKind(file.type);
  return (
    <a class="file-card" href={file.url} download={file.name} title={file.name}>
      <span class="file-icon" aria-hidden="true">
        {icon}
      </span>
      <span class="file-text">
        <span class="file-name">
          <span class="sr-only">Download </span>
          <bdi>{file.name}</bdi>
        </span>
        <span class="file-meta">
          {label} · {formatSize(file.size)}
        </span>
      </span>
    </a>
  );
}
