/**
 * Reads the server API's keys: SERVICE_API_KEY (full access, kept working as it always did) and
 * SERVER_API_KEYS, a list of `name:scope,scope:key` entries separated by `;` or new lines. A bad
 * entry is named by its place and name, never by its key.
 */

/** What a server API key may do; `all` is everything (SERVICE_API_KEY). */
export const SERVER_API_SCOPES = ["messages", "rooms", "unread", "tokens", "disconnect", "all"] as const;
export type ServerApiScope = (typeof SERVER_API_SCOPES)[number];

/** One configured key: a name for logs, what it may do, and the secret itself. */
export interface ServerApiKey {
  name: string;
  scopes: readonly ServerApiScope[];
  key: string;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MIN_KEY_LENGTH = 32;

export function parseServerApiKeys(
  serviceKey: string | undefined,
  list: string | undefined,
  problems: string[],
): ServerApiKey[] {
  const keys: ServerApiKey[] = serviceKey ? [{ name: "default", scopes: ["all"], key: serviceKey }] : [];
  const entries = (list ?? "")
    .split(/[;\n]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  entries.forEach((entry, index) => {
    const where = `SERVER_API_KEYS: entry ${index + 1}`;
    const [name = "", scopeList = "", ...rest] = entry.split(":");
    // the key is everything after the second colon, so a key may contain colons itself
    const key = rest.join(":");
    if (!NAME.test(name) || rest.length === 0) {
      problems.push(`${where}: write it as name:scope,scope:key (a name of letters, digits, _ . -)`);
      return;
    }
    const scopes = scopeList.split(",").map((s) => s.trim());
    const unknown = scopes.filter((s) => !(SERVER_API_SCOPES as readonly string[]).includes(s));
    if (unknown.length > 0) {
      problems.push(
        `${where} (${name}): unknown scope ${unknown.map((s) => JSON.stringify(s)).join(", ")}; use ${SERVER_API_SCOPES.join(", ")}`,
      );
      return;
    }
    if (key.length < MIN_KEY_LENGTH) {
      problems.push(`${where} (${name}): the key must be at least ${MIN_KEY_LENGTH} characters long`);
      return;
    }
    if (keys.some((k) => k.name === name)) {
      problems.push(`${where}: the name ${name} is used twice`);
      return;
    }
    if (keys.some((k) => k.key === key)) {
      problems.push(`${where} (${name}): the same key is given twice; give every caller its own`);
      return;
    }
    keys.push({ name, scopes: scopes as ServerApiScope[], key });
  });
  return keys;
}
