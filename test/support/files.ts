/**
 * Uploads and downloads over real HTTP, for the file tests: `uploadFile` posts one multipart part
 * named `file` as a browser's FormData does; `download` fetches a link the server gave (a path
 * such as `/api/files/7?u=…`) with no cookie and no Authorization header, as an `<img src>` would.
 */
import assert from "node:assert/strict";
import type { ChatFile, FileBody } from "../../src/protocol/index.js";

/** Uploads `bytes` as `name` with `token`; resolves with the file of the 201 answer. */
export async function uploadFile(
  baseUrl: string,
  token: string,
  name: string,
  bytes: Buffer,
): Promise<ChatFile> {
  const form = new FormData();
  form.append("file", new Blob([bytes]), name);
  const res = await fetch(`${baseUrl}/api/files`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  const text = await res.text();
  assert.equal(res.status, 201, text);
  return (JSON.parse(text) as FileBody).file;
}

export interface Download {
  status: number;
  headers: Headers;
  body: Buffer;
}

/** Fetches `link` (relative to `baseUrl`) without credentials and reads the whole answer. */
export async function download(baseUrl: string, link: string, init: RequestInit = {}): Promise<Download> {
  const res = await fetch(new URL(link, baseUrl), { ...init, credentials: "omit", redirect: "manual" });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

/** `link` with one query parameter replaced. */
export function withParam(link: string, name: string, value: string): string {
  const url = new URL(link, "http://x");
  url.searchParams.set(name, value);
  return `${url.pathname}?${url.searchParams}`;
}

/** The user a link was signed for. */
export function linkUser(link: string): string | null {
  return new URL(link, "http://x").searchParams.get("u");
}
