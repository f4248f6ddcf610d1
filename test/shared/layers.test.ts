/**
 * The chat services are transport-agnostic (docs/architecture.md): socket handlers and HTTP routes
 * call them, never the other way round. What they broadcast is the `Broadcast` interface in
 * src/chat/broadcast.ts, so an import of the transport from src/chat/ is a mistake this catches.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";

const root = join(import.meta.dirname, "..", "..");
const IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gm;
const TRANSPORT = [/\/realtime\//, /\/http\//, /\/cluster\//, /^socket\.io/];

test("no file under src/chat/ imports the transport (realtime, http, cluster, Socket.io)", () => {
  const chat = join(root, "src", "chat");
  const files = readdirSync(chat, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => join(entry.parentPath, entry.name));
  assert.ok(files.length > 10, "the chat services were found");
  const wrong: string[] = [];
  for (const file of files) {
    for (const match of readFileSync(file, "utf8").matchAll(IMPORT)) {
      const from = match[1] as string;
      if (TRANSPORT.some((pattern) => pattern.test(from))) wrong.push(`${relative(root, file)}: ${from}`);
    }
  }
  assert.deepEqual(wrong, []);
});
