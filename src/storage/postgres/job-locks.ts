/**
 * Which node runs each background job (src/cluster/jobs/scheduler.ts), decided by PostgreSQL:
 * a job belongs to the node whose session holds its advisory lock. Each node keeps one dedicated
 * connection for these locks, apart from its pool. A node whose lock connection was lost sits
 * out the next turn of the jobs it held, so a healthy node takes them over; alone, it takes them
 * back one turn later.
 *
 * Why session-level advisory locks rather than a lease row with an expiry (FOR UPDATE SKIP
 * LOCKED): PostgreSQL itself lets go of the lock the moment the holder's connection ends (a
 * killed node, a dropped network, pg_terminate_backend), so another node takes over at its next
 * turn instead of waiting for a lease to run out, and no node's clock is ever compared with
 * another's. The price: the locks need a real session, so this connection must not go through a
 * pooler in transaction mode (PgBouncer's default); point CHAT_DATABASE_URL at PostgreSQL or at a
 * session-mode pool.
 */
import pg from "pg";
import type { JobClaims } from "../../cluster/jobs/scheduler.js";

/**
 * The first half of every job lock's key ("TWC1"): the two-number form keeps job locks apart
 * from the one-number migration lock and from any other application's locks in the database.
 */
export const JOB_LOCK_SPACE = 0x54574331;

/** Takes the job's lock if no session holds it; true if this session holds it now. */
const TRY_LOCK = "SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked";

export interface JobLockOptions {
  /** `postgres://…`, the chat database */
  url: string;
  /** the lock connection failed or was lost; claims say "not now" until it is back */
  onProblem?: (message: string) => void;
}

export class PostgresJobLocks implements JobClaims {
  private client: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;
  /** Jobs whose lock this node's current session holds. */
  private readonly held = new Set<string>();
  /**
   * Jobs held by a session that was lost: this node sits out their next turn, so a healthy node
   * takes them over rather than this one grabbing them back as soon as it reconnects.
   */
  private readonly sittingOut = new Set<string>();
  private closed = false;

  constructor(private readonly options: JobLockOptions) {}

  async claim(name: string): Promise<boolean> {
    if (this.closed) return false;
    if (this.sittingOut.delete(name)) return false;
    let client: pg.Client | null = null;
    try {
      client = await this.connection();
      if (this.held.has(name)) {
        // the session is alive, so its lock is too (it is only ever let go with the session);
        // asking again would stack a second hold on the same lock
        await client.query("SELECT 1");
        return this.held.has(name);
      }
      const { rows } = await client.query<{ locked: boolean }>(TRY_LOCK, [JOB_LOCK_SPACE, name]);
      if (rows[0]?.locked === true && this.client === client) this.held.add(name);
      return this.held.has(name);
    } catch (error) {
      if (client) this.lost(client, error instanceof Error ? error.message : String(error));
      else this.options.onProblem?.(`background jobs can't reach the chat database: ${messageOf(error)}`);
      return false;
    }
  }

  /** Ends the lock connection, which lets go of every job lock at once. */
  async close(): Promise<void> {
    this.closed = true;
    const client = this.client ?? (await this.connecting?.catch(() => null)) ?? null;
    this.client = null;
    this.held.clear();
    await client?.end().catch(() => {});
  }

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: this.options.url,
      application_name: "timewise-chat-jobs",
    });
    // without listeners, a connection dropped by the server would crash the process
    client.on("error", (error) => this.lost(client, error.message));
    client.on("end", () => this.lost(client, "connection ended"));
    await client.connect();
    if (this.closed) {
      await client.end().catch(() => {});
      throw new Error("the job scheduler is closed");
    }
    this.client = client;
    return client;
  }

  /** The session is gone, and its locks with it: another node may take the jobs now. */
  private lost(client: pg.Client, why: string): void {
    if (this.client !== client) return; // already handled ("error" and "end" both come)
    this.client = null;
    for (const name of this.held) this.sittingOut.add(name);
    this.held.clear();
    client.end().catch(() => {});
    if (!this.closed)
      this.options.onProblem?.(`background jobs' lock connection lost (${why}); connecting again`);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
