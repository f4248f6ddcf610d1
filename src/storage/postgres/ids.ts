/**
 * Ids on the wire are decimal strings. One that is not (or is out of BIGINT's range) cannot name
 * a row: it is treated as "not found", as the SQLite store does, rather than sent to PostgreSQL
 * to fail there as a syntax error.
 */
export function dbId(id: string): string | null {
  return /^[0-9]{1,18}$/.test(id) ? id : null;
}
