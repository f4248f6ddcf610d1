/**
 * Writes rows read from SQLite into the same PostgreSQL table: one multi-row INSERT per batch, its
 * values sent as one array per column and turned back into rows by unnest(), so a batch of
 * thousands of rows is one statement with a dozen parameters. Rows already there (same key, or
 * any other unique value taken) are left as they are: the checksums afterwards tell whether they
 * were equal.
 */
import type pg from "pg";
import type { SourceRow } from "./checksum.js";
import type { Kind, TableSpec } from "./tables.js";

const ARRAY_TYPE: Record<Kind, string> = { text: "text[]", int: "bigint[]", bool: "boolean[]" };

const statements = new Map<TableSpec, string>();

function insertSql(spec: TableSpec): string {
  let sql = statements.get(spec);
  if (sql === undefined) {
    const names = spec.columns.map((c) => c.name).join(", ");
    const arrays = spec.columns.map((c, i) => `$${i + 1}::${ARRAY_TYPE[c.kind]}`).join(", ");
    sql = `INSERT INTO ${spec.name} (${names}) SELECT * FROM unnest(${arrays}) ON CONFLICT DO NOTHING`;
    statements.set(spec, sql);
  }
  return sql;
}

/** Inserts `rows`; returns how many were new. */
export async function insertRows(
  db: pg.ClientBase,
  spec: TableSpec,
  rows: readonly SourceRow[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const columns = spec.columns.map((column, i) =>
    rows.map((row) => {
      const value = row[i] ?? null;
      // SQLite keeps booleans as 0 and 1
      return column.kind === "bool" && value !== null ? value !== 0 : value;
    }),
  );
  const result = await db.query(insertSql(spec), columns);
  return result.rowCount ?? 0;
}
