/**
 * The client SDK's names are what PHP and web developers read (`ChatClient`, `ChatSocket`,
 * `RoomState`). A server or test type under the same name sends a reader, or an editor's
 * auto-import, to the wrong thing, so each name declared in `src/sdk/` is declared nowhere else.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";

const root = join(import.meta.dirname, "..", "..");
const DECLARATION =
  /^export\s+(?:declare\s+)?(?:abstract\s+)?(?:type|interface|class|enum|function|const)\s+(\w+)/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Declared export name → the files that declare it. */
function declarations(files: string[]): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const file of files) {
    for (const match of readFileSync(file, "utf8").matchAll(DECLARATION)) {
      const name = match[1] as string;
      names.set(name, [...(names.get(name) ?? []), relative(root, file)]);
    }
  }
  return names;
}

test("no name the client SDK declares is declared again by the server or the tests", () => {
  const sdkDir = join(root, "src", "sdk");
  const sdk = declarations(sourceFiles(sdkDir));
  const others = declarations([
    ...sourceFiles(join(root, "src")).filter((file) => !file.startsWith(sdkDir)),
    ...sourceFiles(join(root, "test")),
  ]);
  const clashes = [...sdk.keys()]
    .filter((name) => others.has(name))
    .map((name) => `${name}: ${others.get(name)}`);
  assert.deepEqual(clashes, []);
});
