/**
 * Real socket.io-client sockets for tests, against an in-process server (`startServer`) or a child
 * process (`spawnServer`) alike: connecting, requests with their acks, and waiting for events.
 */
import { type Socket as ClientSocket, io, type ManagerOptions, type SocketOptions } from "socket.io-client";
import type {
  Ack,
  ClientToServerEvents,
  RequestEvent,
  Requests,
  ServerToClientEvents,
  User,
} from "../../src/protocol/index.js";

/** A test's socket, typed by the contract. */
export type TestSocket = ClientSocket<ServerToClientEvents, ClientToServerEvents>;

/** Socket options tests may change; the defaults are WebSocket only, no reconnection, a new connection. */
export type ClientOptions = Partial<ManagerOptions & SocketOptions>;

/** Opens a socket without waiting for anything (the caller listens for `session` or `connect_error`). */
export function openSocket(
  url: string,
  auth: Record<string, unknown>,
  options: ClientOptions = {},
): TestSocket {
  return io(url, { auth, transports: ["websocket"], reconnection: false, forceNew: true, ...options });
}

/**
 * Resolves once the server sent `session` on a socket opened with `openSocket`; rejects (and closes
 * the socket) if the connection was refused.
 */
export function sessionOf(socket: TestSocket): Promise<{ socket: TestSocket; user: User }> {
  return new Promise((resolve, reject) => {
    socket.once("session", ({ user }) => resolve({ socket, user }));
    socket.once("connect_error", (err) => {
      socket.close();
      reject(err);
    });
  });
}

/**
 * Resolves with the refusal of a socket opened with `openSocket` (its message and contract code);
 * rejects, closing the socket, if the connection was accepted.
 */
export function refusalOf(socket: TestSocket): Promise<{ message: string; code: string | undefined }> {
  return new Promise((resolve, reject) => {
    socket.once("connect", () => {
      socket.close();
      reject(new Error("the connection was accepted"));
    });
    socket.once("connect_error", (err: Error & { data?: { code?: string } }) => {
      socket.close();
      resolve({ message: err.message, code: err.data?.code });
    });
  });
}

/** Connects with a token and resolves with the socket and the user of its `session` event. */
export function connectWithToken(
  url: string,
  token: string,
  options: ClientOptions = {},
): Promise<{ socket: TestSocket; user: User }> {
  return sessionOf(openSocket(url, { token }, options));
}

/** Sends a request event and resolves with its ack (rejects after `timeoutMs`). */
export function request<E extends RequestEvent>(
  socket: TestSocket,
  event: E,
  payload: unknown,
  timeoutMs = 5000,
): Promise<Ack<Requests[E]["result"]>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ack for ${event} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    // tests send deliberately malformed payloads, so the typed emit is bypassed
    (socket.emit as (...args: unknown[]) => void)(event, payload, (response: Ack<Requests[E]["result"]>) => {
      clearTimeout(timer);
      resolve(response);
    });
  });
}

/** Like `request`, but fails the test unless the ack is ok; returns the result. */
export async function ok<E extends RequestEvent>(
  socket: TestSocket,
  event: E,
  payload: Requests[E]["input"],
  timeoutMs?: number,
): Promise<Requests[E]["result"]> {
  const response = await request(socket, event, payload, timeoutMs);
  if (!response.ok) throw new Error(`${event} failed: ${response.error.code} ${response.error.message}`);
  return response;
}

/** Resolves with the next `event` on `socket` that satisfies `predicate`. */
export function waitFor<E extends keyof ServerToClientEvents>(
  socket: TestSocket,
  event: E,
  predicate: (...args: Parameters<ServerToClientEvents[E]>) => boolean = () => true,
  timeoutMs = 5000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener as never);
      reject(new Error(`no ${String(event)} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (...args: Parameters<ServerToClientEvents[E]>) => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      socket.off(event, listener as never);
      resolve(args[0]);
    };
    socket.on(event, listener as never);
  });
}

/** Collects every `event` a socket receives, for "received exactly once" checks. */
export function collect<E extends keyof ServerToClientEvents>(
  socket: TestSocket,
  event: E,
): Parameters<ServerToClientEvents[E]>[0][] {
  const seen: Parameters<ServerToClientEvents[E]>[0][] = [];
  socket.on(event, ((...args: Parameters<ServerToClientEvents[E]>) => seen.push(args[0])) as never);
  return seen;
}
