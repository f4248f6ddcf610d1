/**
 * Working hours and quiet hours on their own (src/chat/hours/): when a user may be notified, and
 * when next, with exact instants, across the daylight-saving changes of Europe/Lisbon (clocks
 * jump 01:00→02:00 on 2026-03-29, fall back 02:00→01:00 on 2026-10-25) and America/Toronto
 * (02:00→03:00 on 2026-03-08, 02:00→01:00 on 2026-11-01).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { nextAvailable } from "../../src/chat/hours/available.js";
import { instantOf } from "../../src/chat/hours/zone.js";
import type { QuietHours, WorkSchedule } from "../../src/protocol/index.js";
import { quietHours, scheduleSet, userPrefsSet } from "../../src/protocol/payloads.js";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const next = (schedule: WorkSchedule | null, quiet: QuietHours | null, now: string) =>
  iso(nextAvailable(schedule, quiet, at(now)));

const weekdays = (zone: string, from: string, to: string): WorkSchedule => ({
  timeZone: zone,
  weekly: { mon: [[from, to]], tue: [[from, to]], wed: [[from, to]], thu: [[from, to]], fri: [[from, to]] },
});

test("a wall time that happens once is that instant, winter and summer", () => {
  assert.equal(
    iso(instantOf("Europe/Lisbon", { year: 2026, month: 12, day: 7 }, 8 * 60)),
    "2026-12-07T08:00:00.000Z",
  );
  assert.equal(
    iso(instantOf("Europe/Lisbon", { year: 2026, month: 7, day: 6 }, 8 * 60)),
    "2026-07-06T07:00:00.000Z",
  );
  assert.equal(
    iso(instantOf("America/Toronto", { year: 2026, month: 12, day: 7 }, 0)),
    "2026-12-07T05:00:00.000Z",
  );
  // "24:00" is the midnight that ends the day
  assert.equal(
    iso(instantOf("America/Toronto", { year: 2026, month: 12, day: 7 }, 1440)),
    "2026-12-08T05:00:00.000Z",
  );
});

test("a wall time skipped when the clocks go forward is moved on by the gap", () => {
  // Lisbon 2026-03-29: 01:30 never happens; 02:30 WEST is 01:30 UTC
  assert.equal(
    iso(instantOf("Europe/Lisbon", { year: 2026, month: 3, day: 29 }, 90)),
    "2026-03-29T01:30:00.000Z",
  );
  // Toronto 2026-03-08: 02:30 never happens; 03:30 EDT is 07:30 UTC
  assert.equal(
    iso(instantOf("America/Toronto", { year: 2026, month: 3, day: 8 }, 150)),
    "2026-03-08T07:30:00.000Z",
  );
});

test("a wall time that happens twice when the clocks go back is its first occurrence", () => {
  // Lisbon 2026-10-25: 01:30 WEST (00:30 UTC), then again 01:30 WET (01:30 UTC)
  assert.equal(
    iso(instantOf("Europe/Lisbon", { year: 2026, month: 10, day: 25 }, 90)),
    "2026-10-25T00:30:00.000Z",
  );
  // Toronto 2026-11-01: 01:30 EDT (05:30 UTC), then again 01:30 EST (06:30 UTC)
  assert.equal(
    iso(instantOf("America/Toronto", { year: 2026, month: 11, day: 1 }, 90)),
    "2026-11-01T05:30:00.000Z",
  );
});

test("inside working hours a user is available; after them, the next working day's start", () => {
  const office = weekdays("Europe/Lisbon", "08:00", "16:30");
  assert.equal(next(office, null, "2026-12-07T10:00:00Z"), null);
  assert.equal(next(office, null, "2026-12-07T08:00:00Z"), null, "the start itself is working time");
  assert.equal(next(office, null, "2026-12-07T16:30:00Z"), "2026-12-08T08:00:00.000Z", "the end is not");
  assert.equal(next(office, null, "2026-12-07T19:00:00Z"), "2026-12-08T08:00:00.000Z");
  assert.equal(next(office, null, "2026-12-07T07:59:00Z"), "2026-12-07T08:00:00.000Z");
  // Friday evening: Saturday and Sunday are empty days, so Monday
  assert.equal(next(office, null, "2026-12-11T17:00:00Z"), "2026-12-14T08:00:00.000Z");
});

test("the weekend the clocks go forward, Monday 08:00 is an hour earlier in UTC", () => {
  assert.equal(
    next(weekdays("Europe/Lisbon", "08:00", "16:30"), null, "2026-03-27T17:00:00Z"),
    "2026-03-30T07:00:00.000Z",
  );
  assert.equal(
    next(weekdays("America/Toronto", "08:00", "16:30"), null, "2026-03-06T22:00:00Z"),
    "2026-03-09T12:00:00.000Z",
  );
});

test("the weekend the clocks go back, Monday 08:00 is an hour later in UTC", () => {
  assert.equal(
    next(weekdays("Europe/Lisbon", "08:00", "16:30"), null, "2026-10-23T16:00:00Z"),
    "2026-10-26T08:00:00.000Z",
  );
  assert.equal(
    next(weekdays("America/Toronto", "08:00", "16:30"), null, "2026-10-30T21:00:00Z"),
    "2026-11-02T13:00:00.000Z",
  );
});

test("a span starting at a skipped wall time starts when the clocks have jumped", () => {
  const sunday: WorkSchedule = { timeZone: "America/Toronto", weekly: { sun: [["02:30", "10:00"]] } };
  assert.equal(next(sunday, null, "2026-03-08T05:00:00Z"), "2026-03-08T07:30:00.000Z");
  const lisbon: WorkSchedule = { timeZone: "Europe/Lisbon", weekly: { sun: [["01:30", "09:00"]] } };
  assert.equal(next(lisbon, null, "2026-03-28T20:00:00Z"), "2026-03-29T01:30:00.000Z");
});

test("a span starting at a wall time that happens twice starts at the first one", () => {
  const sunday: WorkSchedule = { timeZone: "America/Toronto", weekly: { sun: [["01:30", "05:00"]] } };
  assert.equal(next(sunday, null, "2026-11-01T00:00:00Z"), "2026-11-01T05:30:00.000Z");
  assert.equal(next(sunday, null, "2026-11-01T06:00:00Z"), null, "between the two 01:30s they are at work");
});

test("an overnight span runs past midnight, also through the night the clocks go back", () => {
  // Saturday 22:00 EDT (02:00 UTC Sunday) to Sunday 06:00 EST (11:00 UTC): a nine-hour night
  const nights: WorkSchedule = { timeZone: "America/Toronto", weekly: { sat: [["22:00", "06:00"]] } };
  assert.equal(next(nights, null, "2026-10-31T20:00:00Z"), "2026-11-01T02:00:00.000Z");
  assert.equal(next(nights, null, "2026-11-01T02:00:00Z"), null);
  assert.equal(next(nights, null, "2026-11-01T10:59:00Z"), null);
  // the next Saturday 22:00 is EST: 03:00 UTC
  assert.equal(next(nights, null, "2026-11-01T11:00:00Z"), "2026-11-08T03:00:00.000Z");
});

test("a day's span may end at 24:00, and a day may have several spans", () => {
  const split: WorkSchedule = {
    timeZone: "Europe/Lisbon",
    weekly: {
      mon: [
        ["08:00", "12:00"],
        ["20:00", "24:00"],
      ],
    },
  };
  assert.equal(next(split, null, "2026-12-07T13:00:00Z"), "2026-12-07T20:00:00.000Z");
  assert.equal(next(split, null, "2026-12-07T23:59:00Z"), null);
  assert.equal(next(split, null, "2026-12-08T00:00:00Z"), "2026-12-14T08:00:00.000Z");
});

test("shifts: before one, its start; during one, available; after the last, nothing is held", () => {
  const shifts: WorkSchedule = {
    timeZone: "Europe/Lisbon",
    shifts: [
      { start: "2026-12-09T14:00:00Z", end: "2026-12-09T22:00:00Z" },
      { start: "2026-12-07T06:00:00+01:00", end: "2026-12-07T14:00:00+01:00" },
    ],
  };
  assert.equal(next(shifts, null, "2026-12-06T12:00:00Z"), "2026-12-07T05:00:00.000Z");
  assert.equal(next(shifts, null, "2026-12-07T12:00:00Z"), null);
  assert.equal(next(shifts, null, "2026-12-07T13:00:00Z"), "2026-12-09T14:00:00.000Z");
  assert.equal(next(shifts, null, "2026-12-09T22:00:00Z"), null);
});

test("quiet hours that wrap midnight hold from the evening to the morning", () => {
  const quiet: QuietHours = { timeZone: "Europe/Lisbon", from: "22:00", to: "07:00" };
  assert.equal(next(null, quiet, "2026-12-07T12:00:00Z"), null);
  assert.equal(next(null, quiet, "2026-12-07T23:00:00Z"), "2026-12-08T07:00:00.000Z");
  assert.equal(next(null, quiet, "2026-12-08T06:59:00Z"), "2026-12-08T07:00:00.000Z");
  assert.equal(next(null, quiet, "2026-12-08T07:00:00Z"), null);
  // the night the clocks go forward, 07:00 is WEST: 06:00 UTC
  assert.equal(next(null, quiet, "2026-03-29T02:00:00Z"), "2026-03-29T06:00:00.000Z");
});

test("quiet hours inside working hours push the next start to their end", () => {
  const office = weekdays("America/Toronto", "08:00", "16:30");
  const quiet: QuietHours = { timeZone: "America/Toronto", from: "07:00", to: "09:00" };
  // 07:30 EST Monday: at work from 08:00, quiet until 09:00
  assert.equal(next(office, quiet, "2026-12-07T12:30:00Z"), "2026-12-07T14:00:00.000Z");
  assert.equal(next(office, quiet, "2026-12-07T15:00:00Z"), null);
  // quiet hours in another zone than the schedule: 13:00-14:00 Lisbon is 08:00-09:00 Toronto
  const away: QuietHours = { timeZone: "Europe/Lisbon", from: "13:00", to: "14:00" };
  assert.equal(next(office, away, "2026-12-07T13:30:00Z"), "2026-12-07T14:00:00.000Z");
});

test("quiet hours covering every working period give the next working period", () => {
  const office = weekdays("Europe/Lisbon", "08:00", "16:30");
  const quiet: QuietHours = { timeZone: "Europe/Lisbon", from: "07:00", to: "17:00" };
  assert.equal(next(office, quiet, "2026-12-07T19:00:00Z"), "2026-12-08T08:00:00.000Z");
});

test("schedules and quiet hours that make no sense are refused", () => {
  const bad: unknown[] = [
    { timeZone: "Mars/Olympus", weekly: { mon: [["08:00", "16:00"]] } },
    { timeZone: "", weekly: { mon: [["08:00", "16:00"]] } },
    { timeZone: "Europe/Lisbon", weekly: { mon: [["25:00", "16:00"]] } },
    { timeZone: "Europe/Lisbon", weekly: { mon: [["8:00", "16:00"]] } },
    { timeZone: "Europe/Lisbon", weekly: { mon: [["24:00", "06:00"]] } },
    { timeZone: "Europe/Lisbon", weekly: { mon: [["08:00", "08:00"]] } },
    { timeZone: "Europe/Lisbon", weekly: { mo: [["08:00", "16:00"]] } },
    { timeZone: "Europe/Lisbon", weekly: {} },
    { timeZone: "Europe/Lisbon", weekly: { mon: [] } },
    { timeZone: "Europe/Lisbon", shifts: [] },
    { timeZone: "Europe/Lisbon", shifts: [{ start: "2026-12-07T10:00:00Z", end: "2026-12-07T09:00:00Z" }] },
    { timeZone: "Europe/Lisbon", shifts: [{ start: "tomorrow", end: "2026-12-07T09:00:00Z" }] },
    { weekly: { mon: [["08:00", "16:00"]] } },
  ];
  for (const value of bad) assert.equal(scheduleSet.safeParse(value).success, false, JSON.stringify(value));
  assert.equal(scheduleSet.safeParse(null).success, true);
  assert.equal(scheduleSet.safeParse(weekdays("America/Toronto", "22:00", "06:00")).success, true);
  for (const value of [
    { timeZone: "Nowhere/City", from: "22:00", to: "07:00" },
    { timeZone: "Europe/Lisbon", from: "22:00", to: "22:00" },
    { timeZone: "Europe/Lisbon", from: "22:00", to: "24:00" },
    { timeZone: "Europe/Lisbon", from: "22:00" },
  ]) {
    assert.equal(quietHours.safeParse(value).success, false, JSON.stringify(value));
  }
  assert.equal(userPrefsSet.safeParse({ quietHours: null }).success, true);
  assert.equal(
    userPrefsSet.safeParse({ quietHours: { timeZone: "UTC", from: "22:00", to: "07:00" } }).success,
    true,
  );
});
