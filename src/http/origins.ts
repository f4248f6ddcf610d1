/**
 * The origin allow-list (CORS_ORIGINS), compared exactly: scheme, host and port. The only pattern
 * is a `:*` port wildcard (`http://localhost:*`). The server's own pages are always allowed, with
 * their own scheme only (see own-origin.ts). Pure code: the web page uses it too, for the frame's parent.
 */
/** The page's meta tag with CORS_ORIGINS: the parent pages the embedded chat takes a token from. */
export const PARENT_ORIGINS_META = "twc-parent-origins";

export class OriginPolicy {
  private readonly exact = new Set<string>();
  private readonly anyPort: string[] = [];

  constructor(origins: readonly string[]) {
    for (const origin of origins) {
      if (origin.endsWith(":*")) this.anyPort.push(origin.slice(0, -2).toLowerCase());
      else this.exact.add(origin.toLowerCase());
    }
  }

  /** Whether a page from `origin` may call this server (`own` is the server's own origin, scheme included). */
  allows(origin: string, own: string | undefined): boolean {
    const o = origin.toLowerCase();
    if (this.exact.has(o)) return true;
    if (own && o === own.toLowerCase()) return true;
    const match = /^(https?:\/\/[^/:]+|https?:\/\/\[[^\]]+\])(?::(\d{1,5}))?$/.exec(o);
    return match !== null && this.anyPort.includes(match[1]!);
  }
}
