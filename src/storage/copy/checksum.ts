/**
 * The same checksum computed on both sides: in JavaScript over the rows read from SQLite, and in
 * PostgreSQL over the rows it holds. Each row becomes one line (every text value prefixed with its
 * length in bytes, so no value can pass for two), the line is hashed, and the hashes are hashed
 * again in a stable order. Both halves are kept side by side here so they cannot drift apart.
 * MD5 is enough: this finds copies that differ, it guards against no attacker.
 */
import { createHash } from "node:crypto";
import type { Column, TableSpec } from "./tables.js";

/** A row's values in the order of its table's columns, as SQLite gives them. */
export type SourceRow = unknown[];

function valueText(column: Column, value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (column.kind === "text") {
    const s = String(value);
    return `${Buffer.byteLength(s, "utf8")}:${s}`;
  }
  if (column.kind === "bool") return value ? "1" : "0";
  return String(value);
}

function columnSql(column: Column): string {
  const c = column.name;
  if (column.kind === "text") return `coalesce(octet_length(${c})::text || ':' || ${c}, '-')`;
  if (column.kind === "bool") return `CASE WHEN ${c} IS NULL THEN '-' WHEN ${c} THEN '1' ELSE '0' END`;
  return `coalesce(${c}::text, '-')`;
}

/** The line of one SQLite row. */
export function lineOf(spec: TableSpec, row: SourceRow): string {
  return spec.columns.map((column, i) => valueText(column, row[i])).join("|");
}

/** The SQL expression giving the same line for a PostgreSQL row of the table. */
export function lineSql(spec: TableSpec): string {
  return spec.columns.map(columnSql).join(" || '|' || ");
}

export const md5 = (s: string): string => createHash("md5").update(s, "utf8").digest("hex");

/** Checksum of rows whose order is fixed (messages by seq): the hash of their hashes in order. */
export class OrderedChecksum {
  private readonly hash = createHash("md5");
  add(line: string): void {
    this.hash.update(md5(line));
  }
  digest(): string {
    return this.hash.digest("hex");
  }
}

/** Checksum of rows in any order (members, users): their hashes sorted, then hashed. */
export function unorderedChecksum(lines: readonly string[]): string {
  return md5(lines.map(md5).sort().join(""));
}

/**
 * PostgreSQL's `(count, checksum)` of `spec`'s rows matching `where`, ordered by `orderBy` or, when
 * it is omitted, by the row hashes themselves (as unorderedChecksum does).
 */
export function checksumSql(spec: TableSpec, where: string, orderBy?: string): string {
  const order = orderBy ?? 'h COLLATE "C"';
  return `SELECT count(*)::int AS rows, coalesce(md5(string_agg(h, '' ORDER BY ${order})), md5('')) AS checksum
    FROM (SELECT md5(${lineSql(spec)}) AS h${orderBy ? `, ${orderBy}` : ""} FROM ${spec.name} ${where}) AS lines`;
}
