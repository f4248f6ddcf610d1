/**
 * Token revocations (the server API's "disconnect"): per user, the second up to which issued
 * tokens are refused. Written through the store's write queue; read straight from the database
 * (one primary-key lookup per handshake), because several nodes may share the file and a
 * revocation made on one node must hold on all of them at once.
 */
import type { SqliteDatabase } from "./open.js";

export class Revocations {
  private readonly select;
  private readonly upsert;

  constructor(db: SqliteDatabase) {
    this.select = db.prepare("SELECT revoked_before FROM token_revocations WHERE user_id = ?").pluck();
    // never moves backwards: a late, older revocation must not re-admit tokens
    this.upsert = db.prepare(
      `INSERT INTO token_revocations (user_id, revoked_before) VALUES (?, ?)
       ON CONFLICT (user_id) DO UPDATE SET revoked_before = MAX(revoked_before, excluded.revoked_before)`,
    );
  }

  get(userId: string): number | null {
    const value = this.select.get(userId) as number | undefined;
    return value ?? null;
  }

  /** The write, run inside the store's transaction; the result is the second now in force. */
  write(userId: string, beforeS: number): { result: number } {
    this.upsert.run(userId, beforeS);
    return { result: this.select.get(userId) as number };
  }
}
