/**
 * The SQLite file being copied, opened read-only: nothing the copy does can change it. All reads
 * run inside one read transaction, so the copy sees one moment of the file even if a server
 * (which should be stopped) were still writing to it.
 */
import { existsSync, statSync } from "node:fs";
import Database from "better-sqlite3";
import { MIGRATIONS } from "../sqlite/migrations.js";
import { CopyError } from "./errors.js";

export type SourceDatabase = Database.Database;

/** Opens `path` read-only and checks it is a TimeWise Chat database of this version's schema. */
export function openSource(path: string): SourceDatabase {
  checkSourceFile(path);
  let db: SourceDatabase;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5000 });
    db.exec("BEGIN");
  } catch (error) {
    throw new CopyError(`Cannot open ${path} as a SQLite database: ${reasonOf(error)}.`);
  }
  try {
    checkSchema(db, path);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** Refuses a path where there is no file, before anything else is tried. */
export function checkSourceFile(path: string): void {
  if (!existsSync(path)) throw new CopyError(`Check the --from path: there is no file at ${path}.`);
  if (!statSync(path).isFile()) throw new CopyError(`Check the --from path: ${path} is not a file.`);
}

/** Ends the read transaction and closes the file. */
export function closeSource(db: SourceDatabase): void {
  if (db.inTransaction) db.exec("COMMIT");
  db.close();
}

function checkSchema(db: SourceDatabase, path: string): void {
  let newest: number;
  try {
    newest = Number(db.prepare("SELECT max(version) FROM schema_migrations").pluck().get() ?? 0);
  } catch (error) {
    throw new CopyError(`${path} is not a TimeWise Chat database (${reasonOf(error)}).`);
  }
  const known = MIGRATIONS.at(-1)?.version ?? 0;
  if (newest > known) {
    throw new CopyError(
      `Update TimeWise Chat first: ${path} was made by a newer version (schema ${newest}, this one knows ${known}).`,
    );
  }
  if (newest < known) {
    throw new CopyError(
      `Start TimeWise Chat once on ${path} so it updates the file (schema ${newest} of ${known}), stop it, then copy again.`,
    );
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
