/**
 * The event table is the one source of the contract's request events: the schemas the server
 * parses with, the docs' request table and the malformed-payload specs must all name the same
 * events and the same fields, so an event added in one place and forgotten in another fails here.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { REQUEST_EVENTS } from "../../src/protocol/index.js";
import { REQUEST_SCHEMAS, requestFields } from "../../src/protocol/payloads.js";
import { SPECS } from "./malformed-cases.js";

const sorted = (list: Iterable<string>) => [...list].sort();

/** The rows of the "Requests you can send" table in docs/protocol.md: event → payload fields. */
function documentedRequests(): Map<string, string[]> {
  const doc = readFileSync(new URL("../../docs/protocol.md", import.meta.url), "utf8");
  const section = doc.split("## Requests you can send")[1]?.split("\n## ")[0] ?? "";
  const rows = new Map<string, string[]>();
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    const event = /^\[`([^`]+)`\]/.exec(cells[1] ?? "")?.[1];
    if (!event) continue;
    const payload = /`\{(.*)\}`/.exec(cells[2] ?? "")?.[1] ?? "";
    const fields = payload
      .split(",")
      .map((f) => f.trim().replace(/\?$/, ""))
      .filter(Boolean);
    rows.set(event, fields);
  }
  return rows;
}

test("every request event has exactly one schema, and REQUEST_EVENTS lists each once", () => {
  assert.equal(new Set(REQUEST_EVENTS).size, REQUEST_EVENTS.length);
  assert.deepEqual(sorted(Object.keys(REQUEST_SCHEMAS)), sorted(REQUEST_EVENTS));
});

test("the docs' request table lists every event with the fields its schema takes", () => {
  const documented = documentedRequests();
  assert.deepEqual(sorted(documented.keys()), sorted(REQUEST_EVENTS));
  for (const event of REQUEST_EVENTS) {
    assert.deepEqual(sorted(documented.get(event) ?? []), sorted(requestFields(event)), event);
  }
});

test("every request event has a malformed-payload spec that covers each of its fields", () => {
  // room:list takes no required field and has its own table in malformed-payloads.test.ts
  assert.deepEqual(sorted([...Object.keys(SPECS), "room:list"]), sorted(REQUEST_EVENTS));
  for (const [event, spec] of Object.entries(SPECS)) {
    assert.deepEqual(
      sorted(Object.keys(spec.fields)),
      sorted(requestFields(event as keyof typeof SPECS)),
      event,
    );
  }
});

test("the schema fields are read through the room:list pipe and refined objects", () => {
  assert.deepEqual(requestFields("room:list"), ["limit", "cursor", "record"]);
  assert.deepEqual(requestFields("message:history"), ["roomId", "beforeSeq", "afterSeq", "limit"]);
  assert.deepEqual(requestFields("typing"), ["roomId", "typing"]);
});
