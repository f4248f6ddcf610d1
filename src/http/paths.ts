/**
 * The one way routes read values out of a URL path, for the chat API and the server API alike.
 * A segment is percent-decoded here; a broken escape (`%E0%A4%A`, `%zz`) is the caller's mistake,
 * so it answers BAD_REQUEST with the usual error body instead of escaping as a 500.
 */
import { badRequest } from "../errors.js";

/**
 * Matches `pathname` against `pattern` (its groups are raw path segments) and returns the decoded
 * groups, or null when the path is not this route.
 */
export function matchPath(pattern: RegExp, pathname: string): string[] | null {
  const match = pattern.exec(pathname);
  if (!match) return null;
  return match.slice(1).map((segment) => decodeSegment(segment ?? ""));
}

/** Percent-decodes one path segment; BAD_REQUEST when its escapes are not valid UTF-8. */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest("The address is not valid: it has a broken %-escape.");
  }
}
