/**
 * (v2.4) What both chat stores keep for retention, erasure and the audit log: rooms' own
 * retention periods, and the append-only log of every change made through the server API.
 */

/** Which live messages a retention batch looks for: made before `before` (ISO, exclusive). */
export interface ExpiryQuery {
  before: string;
  /** only this room (a room with its own retention) */
  roomId?: string;
  /** every room but these (RETENTION_DAYS applies to rooms without their own) */
  exceptRoomIds?: readonly string[];
}

/** One server API change, as recorded. Details never carry secrets (tokens, keys). */
export interface AuditInput {
  at: string;
  /** e.g. "messages.post", "rooms.retention" */
  action: string;
  /** what it changed: "room:12", "user:42" */
  target: string;
  details: Record<string, unknown>;
}

export interface AuditEntry extends AuditInput {
  id: string;
}

/** Which audit entries to read: at or after `since` (ISO), after the entry `afterId`, oldest first. */
export interface AuditQuery {
  since?: string;
  afterId?: string;
  limit: number;
}
