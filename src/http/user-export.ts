/**
 * (v2.4) A user's export, streamed as a ZIP (yazl): `messages.json` with every live message they
 * sent and the rooms those are in, then each of their messages' files under `files/<id>-<name>`.
 * Messages are read a page at a time. Each file is opened only when the ZIP reaches it
 * (`addReadStreamLazy`), so one file store read is open at a time however many files the user
 * has, and its bytes are piped through without being held. A file whose bytes are gone is left
 * out; a file store that fails midway ends the download (the client sees it cut off, the log
 * says why), and never the server.
 */
import type { ServerResponse } from "node:http";
import { Readable } from "node:stream";
import yazl from "yazl";
import type { FileStore } from "../files/store.js";
import type { Logger } from "../logger.js";
import type { Message } from "../protocol/index.js";
import type { AsyncChatStore } from "../storage/async-chat-store.js";

const PAGE = 500;

export interface ExportDeps {
  store: AsyncChatStore;
  files: Pick<FileStore, "get">;
  logger: Pick<Logger, "warn">;
}

export async function sendUserExport(res: ServerResponse, userId: string, deps: ExportDeps): Promise<void> {
  const messages: Message[] = [];
  for (let after: string | null = null; ; ) {
    const page = await deps.store.messagesOfSender(userId, after, PAGE);
    messages.push(...page);
    if (page.length < PAGE) break;
    after = page.at(-1)!.id;
  }
  const rooms = [];
  for (const id of new Set(messages.map((m) => m.roomId))) {
    const room = await deps.store.room(id);
    rooms.push({ id, type: room?.type ?? null, name: room?.name ?? null });
  }
  // only the files whose record is still there: what is left out is known before the ZIP starts
  const files: { id: string; name: string; key: string }[] = [];
  for (const m of messages) {
    for (const f of m.files) {
      const record = await deps.store.file(f.id);
      if (record) files.push({ id: f.id, name: f.name, key: record.storeKey });
    }
  }

  const zip = new yazl.ZipFile();
  const fail = (error: unknown) => {
    deps.logger.warn({ userId, err: error }, "a user export could not be finished; the download was cut off");
    res.destroy();
  };
  // yazl reports a failed read as an error of the ZIP: without this listener it would end the process
  zip.on("error", fail);
  res.writeHead(200, {
    "content-type": "application/zip",
    "content-disposition": `attachment; filename="export-${encodeURIComponent(userId)}.zip"`,
  });
  zip.outputStream.on("error", fail).pipe(res);
  zip.addBuffer(Buffer.from(JSON.stringify({ userId, rooms, messages }, null, 2)), "messages.json");
  for (const f of files) {
    zip.addReadStreamLazy(`files/${f.id}-${f.name.replaceAll("/", "_")}`, (done) => {
      deps.files.get(f.key).then(
        // bytes removed since (an erasure running alongside): an empty entry keeps the ZIP whole
        (read) => {
          if (!read) return done(null, Readable.from([]));
          read.body.once("error", fail);
          done(null, read.body);
        },
        (error: unknown) =>
          done(error instanceof Error ? error : new Error(String(error)), Readable.from([])),
      );
    });
  }
  zip.end();
}
