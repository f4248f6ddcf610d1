/**
 * The one wrapper every socket event goes through: rate limit, parse the payload with its schema,
 * call the service, ack. It catches everything (Socket.io does not catch rejections of async
 * handlers), so no payload can crash the process or the connection.
 */
import type { z } from "zod";
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import { type Ack, REQUEST_EVENTS, type RequestEvent, type Requests } from "../protocol/index.js";
import { REQUEST_SCHEMAS, type RequestInput } from "../protocol/payloads.js";
import type { Actor } from "../shared/actor.js";
import { toErrorBody } from "../shared/error-body.js";
import { parseInput } from "../shared/parse.js";
import type { EventLimits, LimitKind } from "./limits.js";
import type { ServerSocket } from "./types.js";

/**
 * What the server does with one request event: its rate-limit bucket and the service call. The
 * payload's schema comes from `REQUEST_SCHEMAS` (the contract) and the result type from
 * `Requests`, so the handler is typed by both.
 */
export interface EventHandler<E extends RequestEvent> {
  limit: LimitKind;
  handle: (
    actor: Actor,
    input: RequestInput<E>,
    socket: ServerSocket,
  ) => Requests[E]["result"] | Promise<Requests[E]["result"]>;
}

/**
 * One handler per request event. A mapped type, so an event added to the contract without a
 * handler here (or a handler whose answer does not match its event) fails the type check.
 */
export type HandlerTable = { [E in RequestEvent]: EventHandler<E> };

export interface HandlerRuntime {
  limits: EventLimits;
  logger: Logger;
  metrics: Metrics;
  /** false once shutdown began: new requests are answered UNAVAILABLE */
  accepting: () => boolean;
  /**
   * true while this socket has more waiting to be sent than the outbound cap (it does not read):
   * new requests are refused with RATE_LIMITED rather than queueing more answers for it
   */
  backlogged?: (socket: ServerSocket) => boolean;
}

/** How long a client whose backlog is full is asked to wait before asking again. */
const BACKLOG_RETRY_MS = 1000;

/** A table entry with its event's types erased, once the table has been type-checked. */
interface AnyHandler {
  event: RequestEvent;
  schema: z.ZodType;
  limit: LimitKind;
  handle: (actor: Actor, input: unknown, socket: ServerSocket) => object | Promise<object>;
}
type Listener = (...args: unknown[]) => void;

/** Listens on `socket` for every request event of the contract, each with its table entry. */
export function registerHandlers(socket: ServerSocket, table: HandlerTable, runtime: HandlerRuntime): void {
  const on = socket.on.bind(socket) as unknown as (event: string, listener: Listener) => void;
  for (const event of REQUEST_EVENTS) {
    // each entry was checked against its own event by HandlerTable; here they run alike
    const entry = table[event] as unknown as Omit<AnyHandler, "event" | "schema">;
    const handler: AnyHandler = { ...entry, event, schema: REQUEST_SCHEMAS[event] };
    on(event, (...args: unknown[]) => {
      void run(handler, socket, args, runtime);
    });
  }
}

async function run(
  handler: AnyHandler,
  socket: ServerSocket,
  args: unknown[],
  runtime: HandlerRuntime,
): Promise<void> {
  const started = performance.now();
  const last = args.at(-1);
  const ack = typeof last === "function" ? (last as (response: Ack<object>) => void) : null;
  const payload = typeof args[0] === "function" ? undefined : args[0];
  const actor = socket.data.user;
  let outcome = "ok";
  try {
    if (!runtime.accepting())
      throw new AppError("UNAVAILABLE", "The chat server is restarting. Please try again.");
    if (runtime.backlogged?.(socket)) {
      throw new AppError(
        "RATE_LIMITED",
        "Answers to your earlier requests are still on their way. Please wait a moment.",
        undefined,
        BACKLOG_RETRY_MS,
      );
    }
    await runtime.limits.take(handler.limit, actor.id);
    const input = parseInput(handler.schema, payload);
    const result = await handler.handle(actor, input, socket);
    ack?.({ ok: true, ...result });
  } catch (error) {
    const body = toErrorBody(error, runtime.logger, { event: handler.event, userId: actor.id });
    outcome = body.code;
    ack?.({ ok: false, error: body });
  }
  runtime.metrics.ackLatency.observe({ event: handler.event, outcome }, (performance.now() - started) / 1000);
}
