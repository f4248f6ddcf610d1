/**
 * `POST /api/files`: a multipart/form-data upload with one part named `file`, read by busboy as
 * it arrives and streamed into FileService.upload, so a file is never whole in memory. Other parts
 * are skipped; a second file part is ignored. When the upload is refused partway (too large,
 * quota), the answer goes out at once and the rest of the body is read and thrown away for a
 * short while before the connection is closed ("lingering close", as nginx does), so the client
 * can read the answer instead of seeing its connection reset mid-send.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import busboy from "busboy";
import type { FileService } from "../chat/files/service.js";
import { tooLarge } from "../chat/files/service.js";
import { AppError, badRequest } from "../errors.js";
import type { ChatFile } from "../protocol/index.js";
import type { Actor } from "../shared/actor.js";

/** Room for the multipart framing (boundaries, part headers) around the file itself. */
const FRAMING_BYTES = 64 * 1024;
/** How long the rest of a refused upload is read and dropped before the connection closes. */
const LINGER_MS = 5_000;

/** Reads the upload in `req` into `files`; rejects with AppError for every refusal. */
export function receiveUpload(
  req: IncomingMessage,
  res: ServerResponse,
  actor: Actor,
  files: FileService,
  maxBytes: number,
): Promise<ChatFile> {
  const type = req.headers["content-type"] ?? "";
  if (!/^multipart\/form-data\b/i.test(type)) {
    return Promise.reject(badRequest('Send the file as multipart/form-data, in a part named "file".'));
  }
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBytes + FRAMING_BYTES) {
    linger(req, res);
    return Promise.reject(tooLarge(maxBytes));
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      defParamCharset: "utf8",
      limits: { files: 1, fields: 20, fieldSize: 8192, parts: 30, headerPairs: 50 },
    });
  } catch {
    return Promise.reject(badRequest("The multipart/form-data body has no boundary."));
  }
  return new Promise<ChatFile>((resolve, reject) => {
    let upload: Promise<ChatFile> | null = null;
    let part: (NodeJS.ReadableStream & { destroy(error?: Error): void }) | null = null;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      parser.removeAllListeners("file");
      // the spooling stops and removes what it wrote, even if the part would never end by itself
      part?.destroy(new Error("the upload was refused or cut off"));
      parser.destroy();
      linger(req, res);
      // an upload that got through before the body went wrong is not kept
      upload?.then((file) => files.discard(file)).catch(() => {});
      reject(error);
    };
    parser.on("file", (field, stream, info) => {
      if (field !== "file" || upload) {
        stream.resume(); // not the file part: skipped
        return;
      }
      part = stream;
      upload = files.upload(actor, { name: info.filename, body: stream });
      upload.catch(fail);
    });
    parser.on("error", () => fail(badRequest("The multipart/form-data body is broken or was cut off.")));
    parser.on("close", () => {
      if (settled) return;
      if (!upload) return fail(badRequest('Send the file in a multipart/form-data part named "file".'));
      upload.then((file) => {
        if (settled) return void files.discard(file).catch(() => {});
        settled = true;
        resolve(file);
      }, fail);
    });
    // a client that goes away mid-upload never ends the body: nothing of it is kept
    const cutOff = () => fail(new AppError("BAD_REQUEST", "The upload was cut off."));
    req.on("error", cutOff);
    req.on("close", () => {
      if (!req.complete) cutOff();
    });
    req.pipe(parser);
  });
}

/**
 * After an early answer: the answer says the connection closes, the rest of the body is drained
 * and dropped, and after LINGER_MS the connection is cut whatever is left.
 */
function linger(req: IncomingMessage, res: ServerResponse): void {
  if (!res.headersSent) res.setHeader("connection", "close");
  req.resume();
  const timer = setTimeout(() => req.destroy(), LINGER_MS);
  timer.unref();
  req.once("end", () => clearTimeout(timer));
  req.once("close", () => clearTimeout(timer));
}
