/**
 * Start-up errors show the value that was wrong, so people can see their typo. A URL-valued
 * setting (REDIS_URL, WEBHOOK_URL, a URL typed into MYSQL_HOST…) can carry a password in it:
 * that part is replaced before anything is printed, even when the URL itself is malformed.
 */

/** `scheme://user:password@rest` → `scheme://user:***@rest`; a lone `scheme://secret@rest` → `scheme://***@rest`. */
export function redactUrlPassword(value: string): string {
  const start = value.indexOf("://");
  if (start < 0) return value;
  const authorityStart = start + 3;
  // the user part ends at the last @ before the path: a password may itself hold an unescaped @ or /
  const at = value.lastIndexOf("@");
  if (at < authorityStart) return value;
  const userInfo = value.slice(authorityStart, at);
  const colon = userInfo.indexOf(":");
  const shown = colon < 0 ? "***" : `${userInfo.slice(0, colon)}:***`;
  return `${value.slice(0, authorityStart)}${shown}${value.slice(at)}`;
}
