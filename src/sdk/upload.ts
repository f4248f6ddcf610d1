/**
 * `uploadFile`: one file to `POST /api/files`, as multipart/form-data with one part named `file`.
 * In a browser it goes through XMLHttpRequest, the only browser API that reports upload progress;
 * elsewhere (Node) through fetch with a streamed body, so progress is reported as the body is
 * read out. Either way an AbortSignal stops it and a refusal becomes a typed error.
 */
import type { ChatFile, FileBody, HttpErrorBody } from "../protocol/index.js";
import { AUTH_ERROR_CODES, type AuthErrorCode, ERROR_CODES, type ErrorCode } from "../protocol/index.js";
import { ChatAuthError, ChatError } from "./errors.js";

/** How much of the file Node reads and sends at a time. */
const UPLOAD_CHUNK_BYTES = 64 * 1024;

/** How far an upload got: bytes of the request sent so far, of `total`. */
export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface UploadOptions {
  /** Called as the upload goes: first with `loaded: 0`, last with `loaded === total`. */
  onProgress?: (progress: UploadProgress) => void;
  /** Aborting it stops the upload; the promise rejects with a DOMException named `AbortError`. */
  signal?: AbortSignal;
  /** The file name to send, for a Blob that has none (a File brings its own). */
  name?: string;
}

/** Where the upload goes and how it signs in. */
export interface UploadTarget {
  /** the chat server, e.g. `https://chat.example.com` */
  url: string;
  /** a Bearer token, or undefined to rely on the PHP session cookie */
  token: string | undefined;
}

/** The server's answer, before it is turned into a file or an error. */
export interface HttpAnswer {
  status: number;
  text: string;
}

/** Sends `file` once; resolves with the stored file or rejects with a typed error. */
export function sendFile(target: UploadTarget, file: Blob, options: UploadOptions): Promise<ChatFile> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortError());
  const name = options.name ?? fileName(file);
  const endpoint = new URL("/api/files", target.url).toString();
  const Xhr = (globalThis as { XMLHttpRequest?: XhrConstructor }).XMLHttpRequest;
  const sent = Xhr
    ? sendWithXhr(Xhr, endpoint, target.token, file, name, options)
    : sendWithFetch(endpoint, target.token, file, name, options);
  return sent.then(toFile);
}

function fileName(file: Blob): string {
  const named = (file as Blob & { name?: unknown }).name;
  return typeof named === "string" && named !== "" ? named : "file";
}

/** The subset of XMLHttpRequest used here (the SDK is type-checked without the DOM library). */
interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: unknown): void;
  abort(): void;
  withCredentials: boolean;
  readonly status: number;
  readonly responseText: string;
  upload: { onprogress: ((e: { loaded: number; total: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
}
type XhrConstructor = new () => XhrLike;
/** The browser's FormData, reached the same way. */
type FormDataConstructor = new () => { append(name: string, value: Blob, fileName: string): void };

function sendWithXhr(
  Xhr: XhrConstructor,
  endpoint: string,
  token: string | undefined,
  file: Blob,
  name: string,
  { onProgress, signal }: UploadOptions,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const xhr = new Xhr();
    xhr.open("POST", endpoint);
    if (token) xhr.setRequestHeader("authorization", `Bearer ${token}`);
    // no token: the PHP session cookie signs the upload in, also from another origin
    else xhr.withCredentials = true;
    let total = file.size;
    xhr.upload.onprogress = (e) => {
      total = e.total;
      onProgress?.({ loaded: e.loaded, total: e.total });
    };
    const stop = () => xhr.abort();
    signal?.addEventListener("abort", stop, { once: true });
    const settle = () => signal?.removeEventListener("abort", stop);
    xhr.onload = () => {
      settle();
      if (xhr.status >= 200 && xhr.status < 300) onProgress?.({ loaded: total, total });
      resolve({ status: xhr.status, text: xhr.responseText });
    };
    xhr.onerror = () => {
      settle();
      reject(unreachable());
    };
    xhr.onabort = () => {
      settle();
      reject(abortError());
    };
    const FormData = (globalThis as unknown as { FormData: FormDataConstructor }).FormData;
    const form = new FormData();
    form.append("file", file, name);
    onProgress?.({ loaded: 0, total });
    xhr.send(form);
  });
}

async function sendWithFetch(
  endpoint: string,
  token: string | undefined,
  file: Blob,
  name: string,
  { onProgress, signal }: UploadOptions,
): Promise<HttpAnswer> {
  const boundary = `----twc-${Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("")}`;
  const head = new TextEncoder().encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quoted(name)}"\r\n` +
      "Content-Type: application/octet-stream\r\n\r\n",
  );
  const tail = new TextEncoder().encode(`\r\n--${boundary}--\r\n`);
  const total = head.length + file.size + tail.length;
  // progress counts what fetch has taken from the body: near enough to what left, as it reads
  // only as fast as the connection takes it. The file is read a slice at a time, so a report
  // comes every UPLOAD_CHUNK_BYTES (a Blob's own stream may hand over everything at once).
  let loaded = 0;
  let offset = 0;
  let stage: "head" | "file" | "tail" | "done" = "head";
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: Uint8Array;
      if (stage === "head") {
        chunk = head;
        stage = file.size > 0 ? "file" : "tail";
      } else if (stage === "file") {
        const end = Math.min(file.size, offset + UPLOAD_CHUNK_BYTES);
        chunk = new Uint8Array(await file.slice(offset, end).arrayBuffer());
        offset = end;
        if (offset >= file.size) stage = "tail";
      } else if (stage === "tail") {
        chunk = tail;
        stage = "done";
      } else {
        controller.close();
        return;
      }
      loaded += chunk.length;
      controller.enqueue(chunk);
      onProgress?.({ loaded, total });
    },
  });
  const headers: Record<string, string> = { "content-type": `multipart/form-data; boundary=${boundary}` };
  if (token) headers.authorization = `Bearer ${token}`;
  onProgress?.({ loaded: 0, total });
  let res: Response;
  try {
    // `duplex: "half"` is what fetch requires for a streamed body (not yet in every RequestInit type)
    res = await fetch(endpoint, { method: "POST", headers, body, signal, duplex: "half" } as RequestInit);
  } catch (error) {
    if (signal?.aborted) throw abortError();
    throw unreachable(error);
  }
  const text = await res.text().catch(() => "");
  return { status: res.status, text };
}

/** A file name inside the quoted filename parameter: quotes and line breaks escaped, as browsers do. */
function quoted(name: string): string {
  return name.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

/** Turns the answer into the stored file, or the catalogue error it carries. */
function toFile(answer: HttpAnswer): ChatFile {
  const body = parseJson(answer.text);
  if (answer.status === 201 && isFileBody(body)) return body.file;
  throw answerError(answer);
}

/** The catalogue error an HTTP answer that failed carries (also for the push routes). */
export function answerError(answer: HttpAnswer): Error {
  const body = parseJson(answer.text);
  const error = isErrorBody(body) ? body.error : null;
  const code = error?.code ?? codeForStatus(answer.status);
  const message = error?.message ?? messageForStatus(answer.status);
  if (isAuthCode(code)) return new ChatAuthError(code, message);
  return new ChatError({ code: isErrorCode(code) ? code : "INTERNAL", message, details: error?.details });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function isFileBody(body: unknown): body is FileBody {
  return typeof body === "object" && body !== null && typeof (body as FileBody).file?.id === "string";
}

function isErrorBody(body: unknown): body is HttpErrorBody {
  const error = (body as HttpErrorBody | null)?.error;
  return typeof error === "object" && error !== null && typeof error.code === "string";
}

function isAuthCode(code: string): code is AuthErrorCode {
  return (AUTH_ERROR_CODES as readonly string[]).includes(code);
}

function isErrorCode(code: string): code is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code);
}

/** An answer without the server's JSON (a proxy in between, say): the code its status means. */
function codeForStatus(status: number): ErrorCode {
  if (status === 413) return "PAYLOAD_TOO_LARGE";
  if (status === 429) return "RATE_LIMITED";
  if (status === 502 || status === 503 || status === 504) return "UNAVAILABLE";
  if (status === 403) return "FORBIDDEN";
  if (status === 404) return "NOT_FOUND";
  if (status === 400) return "BAD_REQUEST";
  return "INTERNAL";
}

function messageForStatus(status: number): string {
  if (status === 413) return "The file is too large.";
  return `The upload failed (HTTP ${status}).`;
}

/** What an aborted fetch rejects with, so callers check `error.name === "AbortError"` either way. */
function abortError(): DOMException {
  return new DOMException("The upload was cancelled.", "AbortError");
}

/** No answer at all: the network or the server is down. Retryable, like a busy server. */
export function unreachable(cause?: unknown): ChatError {
  const error = new ChatError({
    code: "UNAVAILABLE",
    message: "TimeWise Chat could not be reached. Check your connection and try again.",
  });
  if (cause !== undefined) error.cause = cause;
  return error;
}
