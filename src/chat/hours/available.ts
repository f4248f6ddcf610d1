/**
 * (v2.4) Whether a user may be notified away from the chat at an instant, from their working
 * hours (set by the PHP app) and their quiet hours (their own choice), and if not, when they may
 * be next. Pure: no clock and no store, so every case is a unit test.
 *
 * - No schedule: they work all the time, and only quiet hours hold notifications.
 * - A weekly schedule's span belongs to the day it starts on: `["22:00", "06:00"]` on `fri` runs
 *   from Friday 22:00 to Saturday 06:00 in the schedule's zone.
 * - A shifts schedule whose last shift is over no longer holds anything (the PHP app sends the
 *   coming shifts; a list that ran out must not silence someone for good).
 * - Quiet hours that cover every working period would hold everything for good: then the next
 *   working period is the answer, quiet hours or not.
 */
import type { QuietHours, WorkSchedule } from "../../protocol/index.js";
import { addDays, instantOf, type LocalDate, localDateOf, minutesOf, weekdayOf } from "./zone.js";

const DAY = 86_400_000;
/** How far ahead a weekly schedule or quiet hours are looked at: a week and a bit covers every case. */
const WEEK_AHEAD_DAYS = 9;
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

/** A half-open stretch of time [start, end), in ms. */
type Period = readonly [start: number, end: number];

/**
 * Null when the user may be notified at `now` (ms); otherwise when they may be next (ms).
 */
export function nextAvailable(
  schedule: WorkSchedule | null,
  quiet: QuietHours | null,
  now: number,
): number | null {
  const until = horizon(schedule, now);
  const work = schedule === null ? null : workPeriods(schedule, now - DAY, until);
  if (work !== null && !work.some(([, end]) => end > now)) return null;
  const quietPeriods = quiet === null ? [] : quietPeriodsOf(quiet, now - DAY, until);
  const inWork = (t: number) => work === null || work.some(([s, e]) => s <= t && t < e);
  const inQuiet = (t: number) => quietPeriods.some(([s, e]) => s <= t && t < e);
  // where being reachable can begin: now, a working period's start, the end of quiet hours
  const candidates = [
    now,
    ...(work ?? []).map(([s]) => s).filter((s) => s > now),
    ...quietPeriods.map(([, e]) => e).filter((e) => e > now),
  ].sort((a, b) => a - b);
  for (const t of candidates) {
    if (inWork(t) && !inQuiet(t)) return t === now ? null : t;
  }
  // quiet hours cover every working period ahead: the next working period it is
  const next = (work ?? []).find(([s, e]) => e > now && s > now);
  return next ? next[0] : null;
}

/** The end of what is looked at: a week and a bit, or the last shift. */
function horizon(schedule: WorkSchedule | null, now: number): number {
  if (schedule !== null && "shifts" in schedule) {
    return Math.max(now, ...schedule.shifts.map((s) => Date.parse(s.end))) + DAY;
  }
  return now + WEEK_AHEAD_DAYS * DAY;
}

/** The working periods that overlap [from, until), in start order. */
export function workPeriods(schedule: WorkSchedule, from: number, until: number): Period[] {
  if ("shifts" in schedule) {
    return schedule.shifts
      .map((s): Period => [Date.parse(s.start), Date.parse(s.end)])
      .filter(([s, e]) => e > from && s < until)
      .sort((a, b) => a[0] - b[0]);
  }
  const periods: Period[] = [];
  for (const date of datesAround(schedule.timeZone, from, until)) {
    for (const [start, end] of schedule.weekly[WEEKDAYS[weekdayOf(date)]!] ?? []) {
      periods.push(span(schedule.timeZone, date, start, end));
    }
  }
  return periods.filter(([s, e]) => e > from && s < until).sort((a, b) => a[0] - b[0]);
}

/** The quiet periods that overlap [from, until). */
export function quietPeriodsOf(quiet: QuietHours, from: number, until: number): Period[] {
  return datesAround(quiet.timeZone, from, until)
    .map((date) => span(quiet.timeZone, date, quiet.from, quiet.to))
    .filter(([s, e]) => e > from && s < until);
}

/** A span of wall time starting on `date`; an end at or before the start is on the next day. */
function span(timeZone: string, date: LocalDate, from: string, to: string): Period {
  const start = minutesOf(from);
  const end = minutesOf(to);
  // "24:00" is 1440 minutes into `date`: the midnight that ends it
  return [instantOf(timeZone, date, start), instantOf(timeZone, end > start ? date : addDays(date, 1), end)];
}

/** Every local date from the day before `from` to the day of `until`: spans may start the evening before. */
function datesAround(timeZone: string, from: number, until: number): LocalDate[] {
  const dates: LocalDate[] = [];
  const last = localDateOf(timeZone, until);
  for (let date = addDays(localDateOf(timeZone, from), -1); ; date = addDays(date, 1)) {
    dates.push(date);
    if (date.year === last.year && date.month === last.month && date.day === last.day) return dates;
  }
}
