/**
 * Secrets this installation makes for itself on first use and keeps in the chat database, such
 * as the token secret when AUTH_JWT_SECRET is not set. Made once: nodes or restarts that open the
 * same file read the same value (the insert is ignored when another got there first).
 */
import { randomBytes } from "node:crypto";
import type { SqliteDatabase } from "./open.js";

/** The token secret's name, used when AUTH_JWT_SECRET is not set. */
export const JWT_SECRET_NAME = "auth-jwt";

export class ServerSecrets {
  private readonly insert;
  private readonly select;

  constructor(db: SqliteDatabase) {
    this.insert = db.prepare(
      "INSERT INTO server_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
    );
    this.select = db.prepare("SELECT value FROM server_secrets WHERE name = ?").pluck();
  }

  /** The secret called `name`: 32 random bytes as base64url (43 characters), made on first use. */
  get(name: string): string {
    this.insert.run(name, randomBytes(32).toString("base64url"), new Date().toISOString());
    return this.select.get(name) as string;
  }
}
