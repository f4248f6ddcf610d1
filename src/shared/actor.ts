/**
 * Who is asking: the signed-in user a socket, an HTTP route or the server API acts for. Kept apart
 * from the transports so the chat services need nothing from `realtime/` or `http/`.
 */

/** Who is on the other end, as established at the handshake or by the HTTP route's token. */
export interface Actor {
  id: string;
  name: string;
  scope: string | null;
  /** the directory login, when the actor came from the directory (for the `session` payload) */
  login?: string;
}
