/**
 * Uploads and downloads over real HTTP, for the file tests: `uploadFile` posts one multipart part
 * named `file`, encoded exactly as a browser's FormData is; `download` fetches a link the server
 * gave (a path such as `/api/files/7?u=…`) with no cookie and no Authorization header, as an
 * `<img src>` would. Each request has a connection of its own: a kept-alive connection that the
 * server closes after its idle timeout, just as the next request goes out, would fail that request.
 *
 * `postFile` is for tests that need a file on the server and look at the answer (status, error),
 * `hasBytes` tells whether a file store holds bytes under a key.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import type { FileStoreConfig } from "../../src/config/files.js";
import { S3FileStore } from "../../src/files/s3-store.js";
import type { ChatFile, FileBody, HttpErrorBody } from "../../src/protocol/index.js";

export interface Download {
  status: number;
  headers: Headers;
  body: Buffer;
}

export interface DownloadOptions {
  method?: "GET" | "HEAD" | "POST";
  headers?: Record<string, string>;
  body?: Buffer;
}

/** Sends one request to `link` (relative to `baseUrl`) and reads the whole answer. */
export function download(baseUrl: string, link: string, options: DownloadOptions = {}): Promise<Download> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(link, baseUrl),
      { method: options.method ?? "GET", headers: options.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
          }
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
        });
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Uploads `bytes` as `name` with `token`; resolves with the file of the 201 answer. */
export async function uploadFile(
  baseUrl: string,
  token: string,
  name: string,
  bytes: Buffer,
): Promise<ChatFile> {
  const form = new FormData();
  form.append("file", new Blob([bytes]), name);
  // the multipart body and its boundary, as fetch would send them
  const encoded = new Response(form);
  const body = Buffer.from(await encoded.arrayBuffer());
  const answer = await download(baseUrl, "/api/files", {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": encoded.headers.get("content-type") ?? "",
      "content-length": String(body.length),
    },
    body,
  });
  const text = answer.body.toString();
  assert.equal(answer.status, 201, text);
  return (JSON.parse(text) as FileBody).file;
}

/** `link` with one query parameter replaced. */
export function withParam(link: string, name: string, value: string): string {
  const url = new URL(link, "http://x");
  url.searchParams.set(name, value);
  return `${url.pathname}?${url.searchParams}`;
}

/** `file` with its links cut to their paths: what is the same for every reader. */
export function unsignedFile(file: ChatFile): ChatFile {
  const path = (link: string) => new URL(link, "http://x").pathname;
  return {
    ...file,
    url: path(file.url),
    thumbnailUrl: file.thumbnailUrl === null ? null : path(file.thumbnailUrl),
  };
}

/** The user a link was signed for. */
export function linkUser(link: string): string | null {
  return new URL(link, "http://x").searchParams.get("u");
}

export interface UploadAnswer {
  status: number;
  file: ChatFile | null;
  error: HttpErrorBody["error"] | null;
}

/** POSTs `bytes` as the part `file` named `name` to `path` (default the users' `/api/files`). */
export async function postFile(
  url: string,
  authorization: string,
  bytes: Uint8Array,
  options: { name?: string; path?: string } = {},
): Promise<UploadAnswer> {
  const form = new FormData();
  form.append("file", new Blob([bytes]), options.name ?? "notes.txt");
  const res = await fetch(`${url}${options.path ?? "/api/files"}`, {
    method: "POST",
    headers: { authorization },
    body: form,
  });
  const body = (await res.json()) as { file?: ChatFile } & Partial<HttpErrorBody>;
  return { status: res.status, file: body.file ?? null, error: body.error ?? null };
}

/** Whether the file store holds bytes under `key`. */
export async function hasBytes(store: FileStoreConfig, key: string): Promise<boolean> {
  if (store.kind === "disk") return existsSync(join(store.dir, key));
  const s3 = new S3FileStore(store);
  try {
    return (await s3.head(key)) !== null;
  } finally {
    await s3.close();
  }
}
