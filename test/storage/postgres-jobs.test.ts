/**
 * Background jobs across nodes on the real local PostgreSQL: two schedulers, each with its own
 * pool and lock connection, are two nodes. A job runs once per turn across both; when the node
 * running it loses its connection (pg_terminate_backend) or closes, the other takes over at its
 * next turn. Time moves by hand (ManualTimers); the only waiting is polling for PostgreSQL to
 * finish ending a killed session.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import pg from "pg";
import { createJobScheduler, type Job, type JobScheduler } from "../../src/cluster/jobs/index.js";
import { JOB_LOCK_SPACE } from "../../src/storage/postgres/job-locks.js";
import { ManualTimers, requireService, until } from "../support/harness.js";
import { createTestDatabase, type TestDatabase } from "../support/postgres-database.js";

const skip = await requireService("postgres");
const MINUTE = 60_000;

interface Node {
  name: string;
  pool: pg.Pool;
  scheduler: JobScheduler;
  problems: string[];
}

describe("background jobs across PostgreSQL nodes", { skip }, () => {
  let db: TestDatabase;
  let timers: ManualTimers;
  let nodes: Node[] = [];
  /** A plain connection to the chat database, to read what the jobs wrote. */
  let reader: pg.Client;

  before(async () => {
    db = await createTestDatabase("jobs");
    reader = new pg.Client({ connectionString: db.url });
    await reader.connect();
    await reader.query(
      "CREATE TABLE job_runs (id SERIAL PRIMARY KEY, job TEXT NOT NULL, node TEXT NOT NULL)",
    );
  });
  beforeEach(async () => {
    for (const node of nodes) {
      await node.scheduler.close();
      await node.pool.end();
    }
    nodes = [];
    timers = new ManualTimers();
  });
  after(async () => {
    for (const node of nodes) {
      await node.scheduler.close();
      await node.pool.end();
    }
    await reader?.end();
    await db?.drop();
  });

  /** A node: its own pool for the jobs' work, and its own scheduler (and lock connection). */
  const startNode = async (name: string): Promise<Node> => {
    const problems: string[] = [];
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const scheduler = await createJobScheduler({
      databaseUrl: db.url,
      timers,
      onProblem: (message) => problems.push(message),
    });
    const node = { name, pool, scheduler, problems };
    nodes.push(node);
    return node;
  };
  /** The job every node adds: it records which node ran it, in the shared database. */
  const recordingJob = (node: Node, job: string, run?: () => Promise<void>): Job => ({
    name: job,
    everyMs: MINUTE,
    async run() {
      await run?.();
      await node.pool.query("INSERT INTO job_runs (job, node) VALUES ($1, $2)", [job, node.name]);
    },
  });
  const runsOf = async (job: string): Promise<string[]> =>
    (
      await reader.query<{ node: string }>("SELECT node FROM job_runs WHERE job = $1 ORDER BY id", [job])
    ).rows.map((r) => r.node);
  /** The session holding the job's lock, or null. */
  const holderOf = async (job: string): Promise<number | null> => {
    const { rows } = await reader.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = $1)
         AND classid = $2::int::oid AND objid = hashtext($3)::oid AND objsubid = 2`,
      [db.name, JOB_LOCK_SPACE, job],
    );
    return rows[0]?.pid ?? null;
  };

  test("two nodes: the job runs exactly once per turn, on one of them", async () => {
    const a = await startNode("a");
    const b = await startNode("b");
    a.scheduler.add(recordingJob(a, "once"));
    b.scheduler.add(recordingJob(b, "once"));

    await timers.advance(5 * MINUTE);
    const runs = await runsOf("once");
    assert.equal(runs.length, 5, "one run per turn across both nodes");
    assert.equal(new Set(runs).size, 1, "the same node ran every turn");
    assert.notEqual(await holderOf("once"), null);
    assert.deepEqual([...a.problems, ...b.problems], []);
  });

  test("when the running node's connection is killed, the other node takes over at its next turn", async () => {
    const a = await startNode("a");
    const b = await startNode("b");
    a.scheduler.add(recordingJob(a, "takeover"));
    b.scheduler.add(recordingJob(b, "takeover"));
    await timers.advance(2 * MINUTE);
    const [first] = await runsOf("takeover");
    assert.equal(first, "a", "a's turn comes first, so a took the lock");

    const pid = await holderOf("takeover");
    assert.ok(pid);
    await db.admin.query("SELECT pg_terminate_backend($1)", [pid]);
    // PostgreSQL lets go of the lock when the killed session has ended, a moment after the call
    await until(async () => (await holderOf("takeover")) === null, 5000, "the killed session to end");

    await timers.advance(MINUTE);
    assert.deepEqual(await runsOf("takeover"), ["a", "a", "b"], "b ran the very next turn, and only b");
    await timers.advance(2 * MINUTE);
    assert.deepEqual(
      await runsOf("takeover"),
      ["a", "a", "b", "b", "b"],
      "a, connected again, does not run it too",
    );
    assert.ok(
      a.problems.some((m) => /lock connection lost/.test(m)),
      "a reported its lost connection",
    );
  });

  test("a lone node whose connection is killed sits out one turn, then runs the job again", async () => {
    const a = await startNode("a");
    a.scheduler.add(recordingJob(a, "alone"));
    await timers.advance(MINUTE);
    const pid = await holderOf("alone");
    assert.ok(pid);
    await db.admin.query("SELECT pg_terminate_backend($1)", [pid]);
    await until(async () => (await holderOf("alone")) === null, 5000, "the killed session to end");

    await timers.advance(MINUTE);
    assert.deepEqual(await runsOf("alone"), ["a"], "the turn after the loss is left to other nodes");
    await timers.advance(MINUTE);
    assert.deepEqual(await runsOf("alone"), ["a", "a"], "then a connects again and takes it back");
    assert.notEqual(await holderOf("alone"), pid);
  });

  test("a node that closes hands its jobs to the other at the next turn", async () => {
    const a = await startNode("a");
    const b = await startNode("b");
    a.scheduler.add(recordingJob(a, "handover"));
    b.scheduler.add(recordingJob(b, "handover"));
    await timers.advance(MINUTE);
    await a.scheduler.close();
    await timers.advance(MINUTE);
    assert.deepEqual(await runsOf("handover"), ["a", "b"]);
  });

  test("a job that throws is reported and runs again at its next turn, on the same node", async () => {
    const a = await startNode("a");
    const b = await startNode("b");
    let attempts = 0;
    const flaky = () => {
      attempts++;
      return attempts === 1 ? Promise.reject(new Error("mail server refused")) : Promise.resolve();
    };
    a.scheduler.add(recordingJob(a, "flaky", flaky));
    b.scheduler.add(recordingJob(b, "flaky", flaky));

    await timers.advance(MINUTE);
    assert.deepEqual(await runsOf("flaky"), []);
    assert.equal(attempts, 1, "only one node tried");
    assert.match(a.problems.join("\n"), /"flaky" failed \(mail server refused\); it runs again/);
    await timers.advance(MINUTE);
    assert.deepEqual(await runsOf("flaky"), ["a"]);
    assert.equal(attempts, 2);
  });

  test("different jobs are locked apart: each runs every turn", async () => {
    const a = await startNode("a");
    const b = await startNode("b");
    for (const node of [a, b]) {
      node.scheduler.add(recordingJob(node, "first"));
      node.scheduler.add(recordingJob(node, "second"));
    }
    await timers.advance(3 * MINUTE);
    assert.equal((await runsOf("first")).length, 3);
    assert.equal((await runsOf("second")).length, 3);
  });

  test("with the database unreachable, a node runs nothing, says why, and carries on", async () => {
    const problems: string[] = [];
    const scheduler = await createJobScheduler({
      databaseUrl: "postgres://root@127.0.0.1:1/nothing",
      timers,
      onProblem: (message) => problems.push(message),
    });
    let runs = 0;
    const job: Job = {
      name: "unreachable",
      everyMs: MINUTE,
      async run() {
        runs++;
      },
    };
    scheduler.add(job);
    await timers.advance(2 * MINUTE);
    assert.equal(runs, 0);
    assert.equal(problems.length, 2);
    assert.match(problems[0]!, /can't reach the chat database/);
    await scheduler.close();
  });
});
