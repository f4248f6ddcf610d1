/**
 * The server's own origin as the browser sees it, for the "own pages are always allowed" rule:
 * the Host header with the page's own scheme only. Over TLS, or behind a proxy that says
 * `X-Forwarded-Proto: https`, that is `https://host`: a plain `http://host` page (which anyone on
 * the network can change) does not count as the server's own page.
 */
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";

/** `https://host` or `http://host`, or undefined without a usable Host header. */
export function ownOrigin(req: IncomingMessage): string | undefined {
  const host = req.headers.host;
  if (!host || !/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)) return undefined;
  return `${https(req) ? "https" : "http"}://${host.toLowerCase()}`;
}

/**
 * Whether the page was loaded over https. The header is read from anyone, on purpose: it can only
 * turn http into https, which narrows what counts as the own page and never widens it.
 */
function https(req: IncomingMessage): boolean {
  if ((req.socket as Partial<TLSSocket>).encrypted === true) return true;
  const forwarded = req.headers["x-forwarded-proto"];
  const values = (Array.isArray(forwarded) ? forwarded.join(",") : (forwarded ?? "")).toLowerCase();
  return values.split(",").some((v) => v.trim() === "https");
}
