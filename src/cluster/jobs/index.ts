/**
 * The background job scheduler for this node: with a PostgreSQL chat database the nodes share
 * the jobs through advisory locks (each job runs on one node at a time, and another takes over
 * when it dies); with SQLite there is one node, which runs every job itself.
 */
import { type JobClaims, JobScheduler, localClaims, type SchedulerOptions } from "./scheduler.js";

export { type Job, type JobClaims, JobScheduler, localClaims, type TurnOutcome } from "./scheduler.js";
export { type JobTimers, realTimers } from "./timers.js";

export interface JobSchedulerOptions extends SchedulerOptions {
  /** `postgres://…` when the chat data is in PostgreSQL; unset for SQLite */
  databaseUrl?: string;
}

export async function createJobScheduler(options: JobSchedulerOptions = {}): Promise<JobScheduler> {
  let claims: JobClaims = localClaims();
  if (options.databaseUrl !== undefined) {
    // loaded only when used, like the other optional drivers, so an SQLite node starts faster
    const { PostgresJobLocks } = await import("../../storage/postgres/job-locks.js");
    claims = new PostgresJobLocks({ url: options.databaseUrl, onProblem: options.onProblem });
  }
  return new JobScheduler(claims, options);
}
