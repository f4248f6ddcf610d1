/**
 * Small helpers for JSON over node:http: answers, contract-shaped errors, and request bodies read
 * with a size limit.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { AppError } from "../errors.js";
import type { HttpErrorBody, HttpResponses, HttpRoute } from "../protocol/index.js";

export const MAX_BODY_BYTES = 64 * 1024;

/**
 * A route's successful answer. The route names the body type (`HttpResponses`), so what a handler
 * sends is checked against the contract; it is not otherwise used.
 */
export function reply<R extends HttpRoute>(
  res: ServerResponse,
  _route: R,
  status: number,
  body: HttpResponses[R],
): void {
  sendJson(res, status, body);
}

function sendJson(res: ServerResponse, status: number, body: HttpResponses[HttpRoute] | HttpErrorBody): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

export function sendError(
  res: ServerResponse,
  status: number,
  code: HttpErrorBody["error"]["code"],
  message: string,
  extra?: Omit<HttpErrorBody["error"], "code" | "message">,
): void {
  if (extra?.retryAfterMs !== undefined)
    res.setHeader("retry-after", Math.ceil(Number(extra.retryAfterMs) / 1000));
  sendJson(res, status, { error: { code, message, ...extra } });
}

/** Reads a JSON object body; BAD_REQUEST for anything else, PAYLOAD_TOO_LARGE past the limit. */
export async function readJson(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const type = req.headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new AppError("BAD_REQUEST", 'Send the body as JSON with "Content-Type: application/json".');
  }
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) throw new AppError("PAYLOAD_TOO_LARGE", `The body can be at most ${limit} bytes.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new AppError("PAYLOAD_TOO_LARGE", `The body can be at most ${limit} bytes.`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new AppError("BAD_REQUEST", "The body is not valid JSON.");
  }
}
