/**
 * The background job scheduler on one node (SQLite, no shared database): every job runs on this
 * node at each of its turns, driven by a hand-moved timer source, never by sleeping.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createJobScheduler, type Job } from "../../src/cluster/jobs/index.js";
import { ManualTimers } from "../support/harness.js";

const MINUTE = 60_000;

function countingJob(name: string, everyMs: number): Job & { runs: number } {
  const job = {
    name,
    everyMs,
    runs: 0,
    async run() {
      job.runs++;
    },
  };
  return job;
}

describe("background jobs on one node", () => {
  test("each job runs once per interval, on its own schedule", async () => {
    const timers = new ManualTimers();
    const scheduler = await createJobScheduler({ timers });
    const everyMinute = countingJob("every-minute", MINUTE);
    const everyHour = countingJob("every-hour", 60 * MINUTE);
    scheduler.add(everyMinute);
    scheduler.add(everyHour);

    await timers.advance(MINUTE - 1);
    assert.equal(everyMinute.runs, 0, "the first turn comes after one interval");
    await timers.advance(1);
    assert.equal(everyMinute.runs, 1);
    await timers.advance(59 * MINUTE);
    assert.equal(everyMinute.runs, 60);
    assert.equal(everyHour.runs, 1);
    await scheduler.close();
  });

  test("a job that throws is reported and runs again at its next turn", async () => {
    const timers = new ManualTimers();
    const problems: string[] = [];
    const scheduler = await createJobScheduler({ timers, onProblem: (message) => problems.push(message) });
    let attempts = 0;
    let done = 0;
    scheduler.add({
      name: "flaky",
      everyMs: MINUTE,
      async run() {
        attempts++;
        if (attempts === 1) throw new Error("disk busy");
        done++;
      },
    });

    await timers.advance(MINUTE);
    assert.equal(done, 0);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /"flaky" failed \(disk busy\)/);
    await timers.advance(MINUTE);
    assert.equal(done, 1, "the next turn ran it again");
    assert.equal(problems.length, 1);
    await scheduler.close();
  });

  test("a slow run is not overlapped by its next turn, and close waits for it", async () => {
    const timers = new ManualTimers();
    const scheduler = await createJobScheduler({ timers });
    let release: () => void = () => {};
    let started = 0;
    let finished = 0;
    const job: Job = {
      name: "slow",
      everyMs: MINUTE,
      async run() {
        started++;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        finished++;
      },
    };
    scheduler.add(job);

    const first = scheduler.turn(job);
    assert.equal(await scheduler.turn(job), "still-running");
    assert.equal(started, 1);
    const closed = scheduler.close();
    assert.equal(finished, 0);
    release();
    assert.equal(await first, "ran");
    await closed;
    assert.equal(finished, 1);
    assert.equal(timers.active, 0, "closing stops the timers");
    assert.equal(await scheduler.turn(job), "closed");
  });

  test("two jobs with one name, or an interval of 0, are refused with the reason", async () => {
    const scheduler = await createJobScheduler({ timers: new ManualTimers() });
    scheduler.add(countingJob("clean-up", MINUTE));
    assert.throws(() => scheduler.add(countingJob("clean-up", MINUTE)), /already added/);
    assert.throws(() => scheduler.add(countingJob("never", 0)), /interval above 0/);
    await scheduler.close();
  });
});
