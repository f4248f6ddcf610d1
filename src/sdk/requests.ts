/**
 * One request on the wire: the event with its payload, an answer within a time limit, and what
 * the answer changes in the local state.
 */
import type { Ack, RequestEvent, Requests } from "../protocol/index.js";
import type { ChatSocket } from "./connection.js";
import { ChatError, ChatTimeoutError } from "./errors.js";
import type { ChatState } from "./store.js";

/** Emits a request event; resolves with its result, rejects with a `ChatError` or a timeout. */
export function emitRequest<E extends RequestEvent>(
  socket: ChatSocket,
  event: E,
  input: Requests[E]["input"],
  timeoutMs: number,
): Promise<Requests[E]["result"]> {
  // The one place the contract's per-event signatures meet a generic event name.
  const timed = socket.timeout(timeoutMs) as unknown as {
    emit(
      event: E,
      payload: unknown,
      ack: (err: Error | null, response?: Ack<Requests[E]["result"]>) => void,
    ): void;
  };
  return new Promise((resolve, reject) => {
    timed.emit(event, input, (err, response) => {
      // socket.io-client also calls back with an error at once when the connection drops
      if (err || !response) reject(new ChatTimeoutError(event, timeoutMs));
      else if (response.ok) resolve(withoutOk(response));
      else reject(new ChatError(response.error));
    });
  });
}

/**
 * Applies an answer that carries a room or a message (or leaves a room, or moves my read marker)
 * to the state. Returns the id of a room to fetch again for its unread count, if any.
 */
export function applyAnswer<E extends RequestEvent>(
  state: ChatState,
  event: E,
  input: Requests[E]["input"],
  result: Requests[E]["result"],
): string | undefined {
  if ("room" in result) state.upsertRoom(result.room);
  else if ("message" in result) state.applyMessage(result.message, false);
  else if (event === "room:leave") state.removeRoom((input as Requests["room:leave"]["input"]).roomId);
  else if (event === "room:read" && state.me) {
    const { roomId } = input as Requests["room:read"]["input"];
    const { readSeq } = result as Requests["room:read"]["result"];
    // newer messages arrived meanwhile: only the server knows how many of them count as unread
    if (!state.applyRead(roomId, state.me.id, readSeq)) return roomId;
  }
  return undefined;
}

function withoutOk<R>(response: { ok: true } & R): R {
  const { ok: _, ...rest } = response;
  return rest as R;
}
