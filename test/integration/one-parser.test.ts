/**
 * Sockets, the HTTP routes and the server API parse input with one parser and map errors with one
 * mapper (src/shared/), so the same wrong input gets the same answer whichever way it came.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { z } from "zod";
import { AppError } from "../../src/errors.js";
import { parseInput } from "../../src/shared/parse.js";
import { request, startServer, type TestServer } from "../support/harness.js";
import { group, type Person, person } from "../support/rooms.js";

const KEY = randomBytes(24).toString("hex");
let server: TestServer;
let ann: Person;
let roomId: string;

before(async () => {
  server = await startServer({ env: { SERVICE_API_KEY: KEY } });
  ann = await person(server, "Ann Parser");
  roomId = (await group(ann, [], "Parsed")).id;
});
after(() => server.close());

/** What parseInput throws for `value`, as the error body a client gets. */
function refusal(schema: z.ZodType, value: unknown) {
  try {
    parseInput(schema, value);
  } catch (error) {
    assert.ok(error instanceof AppError);
    return error.toBody();
  }
  assert.fail("the value was accepted");
}

test("a problem with the whole value says the request is not valid, not an empty field name", () => {
  assert.deepEqual(refusal(z.string().regex(/^\d+$/, "must be digits"), "abc"), {
    code: "BAD_REQUEST",
    message: "The request is not valid: must be digits.",
    details: [{ path: "", message: "must be digits" }],
  });
});

test("a problem with a field names the field, and lists at most ten problems", () => {
  const schema = z.object(Object.fromEntries([...Array(12).keys()].map((i) => [`f${i}`, z.string()])));
  const body = refusal(schema, {});
  assert.equal(body.message, 'Check "f0": Invalid input: expected string, received undefined.');
  assert.equal((body.details as unknown[]).length, 10);
});

test("message history with both cursors gets one answer over the socket and over HTTP", async () => {
  const viaSocket = await request(ann.socket, "message:history", { roomId, beforeSeq: 5, afterSeq: 1 });
  assert.equal(viaSocket.ok, false);
  const response = await fetch(`${server.url}/api/rooms/${roomId}/messages?beforeSeq=5&afterSeq=1`, {
    headers: { authorization: `Bearer ${await server.token(ann.id)}` },
  });
  assert.equal(response.status, 400);
  const viaHttp = (await response.json()) as { error: unknown };
  assert.deepEqual(viaHttp.error, viaSocket.ok ? null : viaSocket.error);
  assert.deepEqual(viaHttp.error, {
    code: "BAD_REQUEST",
    message: "The request is not valid: give beforeSeq or afterSeq, not both.",
    details: [{ path: "", message: "give beforeSeq or afterSeq, not both" }],
  });
});

test("the server API answers a user id that is not one like the socket does", async () => {
  const response = await fetch(`${server.url}/api/server/users/abc/unread`, {
    headers: { authorization: `Bearer ${KEY}` },
  });
  assert.equal(response.status, 400);
  const body = (await response.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, "BAD_REQUEST");
  assert.equal(body.error.message, 'The request is not valid: must be a user id string such as "7".');
});
