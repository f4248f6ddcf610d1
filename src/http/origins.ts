/**
 * The origin allow-list (CORS_ORIGINS), compared exactly: scheme, host and port. The only pattern
 * is a `:*` port wildcard (`http://localhost:*`). The server's own pages are always allowed.
 */
export class OriginPolicy {
  private readonly exact = new Set<string>();
  private readonly anyPort: string[] = [];

  constructor(origins: readonly string[]) {
    for (const origin of origins) {
      if (origin.endsWith(":*")) this.anyPort.push(origin.slice(0, -2).toLowerCase());
      else this.exact.add(origin.toLowerCase());
    }
  }

  /** Whether a page from `origin` may call this server (`host` is the request's Host header). */
  allows(origin: string, host: string | undefined): boolean {
    const o = origin.toLowerCase();
    if (this.exact.has(o)) return true;
    if (host && (o === `http://${host.toLowerCase()}` || o === `https://${host.toLowerCase()}`)) return true;
    const match = /^(https?:\/\/[^/:]+|https?:\/\/\[[^\]]+\])(?::(\d{1,5}))?$/.exec(o);
    return match !== null && this.anyPort.includes(match[1]!);
  }
}
