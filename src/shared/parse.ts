/**
 * The one input parser of sockets, HTTP routes and the server API: a value that fails its schema
 * becomes BAD_REQUEST, with the first problem in the message and up to ten in `details`.
 */
import type { z } from "zod";
import { badRequest } from "../errors.js";

/** How many schema problems an answer lists; the rest would only make it longer. */
const MAX_DETAILS = 10;

/** The parsed value, or a thrown BAD_REQUEST that says which field is wrong. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues
    .slice(0, MAX_DETAILS)
    .map((i) => ({ path: i.path.join("."), message: i.message }));
  throw badRequest(describe(details), details);
}

function describe(details: { path: string; message: string }[]): string {
  const first = details[0];
  if (!first) return "The request is not valid.";
  return first.path
    ? `Check "${first.path}": ${first.message}.`
    : `The request is not valid: ${first.message}.`;
}
