/**
 * The tables that belong to no room (known users, token revocations, server secrets, the built-in
 * user directory, digests, the audit log), and after the rooms those that point at them (file
 * records, notice recipients, rooms' retention): each copied in one transaction and then compared
 * whole, so a target holding other rows for them is reported instead of silently kept.
 */
import type pg from "pg";
import { checksumSql, lineOf, type SourceRow, unorderedChecksum } from "./checksum.js";
import { insertRows } from "./insert.js";
import type { SourceDatabase } from "./source.js";
import { SMALL_TABLES, type TableSpec } from "./tables.js";

const BATCH = 5000;

export interface TableResult {
  table: string;
  rows: number;
  added: number;
  /** what differs, in words; undefined when the target equals the file */
  problem?: string;
}

/** Copies one whole table in one transaction, then compares it with the file's. */
export async function copyTable(
  client: pg.PoolClient,
  source: SourceDatabase,
  spec: TableSpec,
): Promise<TableResult> {
  const names = spec.columns.map((c) => c.name).join(", ");
  const rows = source
    .prepare(`SELECT ${names} FROM ${spec.name} ORDER BY ${spec.order}`)
    .raw()
    .all() as SourceRow[];
  await client.query("BEGIN");
  try {
    let added = 0;
    for (let i = 0; i < rows.length; i += BATCH)
      added += await insertRows(client, spec, rows.slice(i, i + BATCH));
    const { rows: found } = await client.query<{ rows: number; checksum: string }>(checksumSql(spec, ""));
    const expected = unorderedChecksum(rows.map((row) => lineOf(spec, row)));
    const target = found[0]!;
    if (target.rows !== rows.length || target.checksum !== expected) {
      await client.query("ROLLBACK");
      return {
        table: spec.name,
        rows: rows.length,
        added: 0,
        problem: `table ${spec.name}: the target already holds different rows (${target.rows} there, ${rows.length} in the file); nothing was copied into it`,
      };
    }
    await client.query("COMMIT");
    return { table: spec.name, rows: rows.length, added };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

/** Copies and checks every table outside rooms. */
export async function copySmallTables(pool: pg.Pool, source: SourceDatabase): Promise<TableResult[]> {
  const client = await pool.connect();
  try {
    const results: TableResult[] = [];
    for (const spec of SMALL_TABLES) results.push(await copyTable(client, source, spec));
    return results;
  } finally {
    client.release();
  }
}

/** Copies and checks a table that refers to rooms and messages: run it after the rooms. */
export async function copyTableAfterRooms(
  pool: pg.Pool,
  source: SourceDatabase,
  spec: TableSpec,
): Promise<TableResult> {
  const client = await pool.connect();
  try {
    return await copyTable(client, source, spec);
  } finally {
    client.release();
  }
}
