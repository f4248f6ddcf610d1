/**
 * The address a request really comes from, for every per-address limit (sign-in, handshakes,
 * session-cookie lookups, /ready). Behind a reverse proxy the TCP peer is the proxy, so every
 * user would share one allowance; the proxy's `X-Forwarded-For` names the client instead. That
 * header is only believed when the TCP peer is one of TRUST_PROXY's addresses: anyone else could
 * write any address into it and get a fresh allowance with every request.
 */
import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";

/** Checks one TRUST_PROXY entry; null when it is fine, else what is wrong with it. */
export function trustedProxyProblem(entry: string): string | null {
  const [address, prefix, extra] = entry.split("/");
  const family = isIP(address ?? "");
  if (family === 0 || extra !== undefined)
    return `"${entry}" is not an IP address or a range like 10.0.0.0/8`;
  if (prefix === undefined) return null;
  const bits = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) {
    return `"${entry}" has a prefix length that is not 0–${bits}`;
  }
  return null;
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is 10.0.0.1. */
function plain(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/** Finds the client address of requests, trusting X-Forwarded-For from the listed proxies only. */
export class ClientAddresses {
  private readonly trusted = new BlockList();
  private readonly any: boolean;

  /** `proxies`: validated TRUST_PROXY entries (addresses and CIDR ranges, IPv4 or IPv6). */
  constructor(proxies: readonly string[]) {
    this.any = proxies.length > 0;
    for (const entry of proxies) {
      const [address = "", prefix] = entry.split("/");
      const type = isIP(address) === 6 ? "ipv6" : "ipv4";
      if (prefix === undefined) this.trusted.addAddress(address, type);
      else this.trusted.addSubnet(address, Number(prefix), type);
    }
  }

  /** Whether `address` is one of the trusted proxies. */
  isTrusted(address: string): boolean {
    const family = isIP(address);
    if (!this.any || family === 0) return false;
    return this.trusted.check(address, family === 6 ? "ipv6" : "ipv4");
  }

  /**
   * The client of `req`: the TCP peer, unless that is a trusted proxy; then the right-most
   * X-Forwarded-For address that is not a trusted proxy (each proxy appends the address it saw, so
   * the ones further left were written by whoever sent the request and prove nothing).
   */
  of(req: IncomingMessage): string {
    let client = plain(req.socket.remoteAddress ?? "unknown");
    if (!this.isTrusted(client)) return client;
    const header = req.headers["x-forwarded-for"];
    const hops = (Array.isArray(header) ? header.join(",") : (header ?? ""))
      .split(",")
      .map((hop) => plain(hop.trim()))
      .filter((hop) => hop.length > 0);
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      // something that is not an address ends the chain: the last proxy is all that is known
      if (isIP(hop) === 0) return client;
      client = hop;
      if (!this.isTrusted(hop)) return hop;
    }
    return client;
  }
}
