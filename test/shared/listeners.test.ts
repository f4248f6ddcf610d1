/**
 * The services' listener lists (`onSent`, `onUpdated`, `onChanged`): every listener hears each
 * event in the order it was added, whoever added it first, and one that throws neither reaches
 * the caller nor keeps the others from hearing.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Listeners } from "../../src/shared/listeners.js";

test("every listener hears each event, in the order they were added", () => {
  const heard: string[] = [];
  const list = new Listeners<[id: string]>();
  list.add((id) => heard.push(`metrics ${id}`));
  list.add((id) => heard.push(`webhooks ${id}`));
  list.emit("1");
  list.emit("2");
  assert.deepEqual(heard, ["metrics 1", "webhooks 1", "metrics 2", "webhooks 2"]);
});

test("a listener that throws is reported, and the caller and the other listeners go on", () => {
  const heard: string[] = [];
  const errors: unknown[] = [];
  const list = new Listeners<[id: string]>((error) => errors.push(error));
  const failure = new Error("webhook queue full");
  list.add(() => {
    throw failure;
  });
  list.add((id) => heard.push(id));
  assert.doesNotThrow(() => list.emit("7"));
  assert.deepEqual(heard, ["7"]);
  assert.deepEqual(errors, [failure]);
});

test("a removed listener hears nothing more", () => {
  const heard: string[] = [];
  const list = new Listeners<[id: string]>();
  const remove = list.add((id) => heard.push(id));
  list.emit("1");
  remove();
  list.emit("2");
  assert.deepEqual(heard, ["1"]);
});
