/**
 * (v2.4) A user's export, streamed as a ZIP (yazl): `messages.json` with every live message they
 * sent and the rooms those are in, then each of their messages' files under `files/<id>-<name>`.
 * Messages are read a page at a time and each file's bytes are piped from the file store, so the
 * ZIP is never built in memory.
 */
import type { ServerResponse } from "node:http";
import yazl from "yazl";
import type { FileStore } from "../files/store.js";
import type { Message } from "../protocol/index.js";
import type { AsyncChatStore } from "../storage/async-chat-store.js";

const PAGE = 500;

export async function sendUserExport(
  res: ServerResponse,
  userId: string,
  store: AsyncChatStore,
  files: Pick<FileStore, "get">,
): Promise<void> {
  const messages: Message[] = [];
  for (let after: string | null = null; ; ) {
    const page = await store.messagesOfSender(userId, after, PAGE);
    messages.push(...page);
    if (page.length < PAGE) break;
    after = page.at(-1)!.id;
  }
  const roomIds = [...new Set(messages.map((m) => m.roomId))];
  const rooms = [];
  for (const id of roomIds) {
    const room = await store.room(id);
    rooms.push({ id, type: room?.type ?? null, name: room?.name ?? null });
  }
  const zip = new yazl.ZipFile();
  res.writeHead(200, {
    "content-type": "application/zip",
    "content-disposition": `attachment; filename="export-${encodeURIComponent(userId)}.zip"`,
  });
  zip.outputStream.pipe(res);
  zip.addBuffer(Buffer.from(JSON.stringify({ userId, rooms, messages }, null, 2)), "messages.json");
  for (const m of messages) {
    for (const f of m.files) {
      const record = await store.file(f.id);
      const bytes = record ? await files.get(record.storeKey) : null;
      if (!bytes) continue;
      zip.addReadStream(bytes.body, `files/${f.id}-${f.name.replaceAll("/", "_")}`);
    }
  }
  zip.end();
}
