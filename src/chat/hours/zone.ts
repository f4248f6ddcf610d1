/**
 * (v2.4) Wall-clock time in an IANA zone, with `Intl` only (no time zone library): what instant a
 * local date and time is, and what local date an instant falls on. Working hours and quiet hours
 * are wall-clock times, so a day with a daylight-saving change is 23 or 25 hours long.
 */

const MINUTE = 60_000;
const DAY = 86_400_000;

/** One formatter per zone: building them is the slow part. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** A local calendar date; `month` 1–12. */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** The local wall time of `instant` in the zone, as if it were UTC (ms). */
function wallOf(timeZone: string, instant: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
}

/** The zone's offset from UTC at `instant`, in ms (whole seconds; sub-second parts are dropped). */
function offsetAt(timeZone: string, instant: number): number {
  return wallOf(timeZone, instant) - Math.floor(instant / 1000) * 1000;
}

/** The local date `instant` falls on in the zone. */
export function localDateOf(timeZone: string, instant: number): LocalDate {
  const wall = new Date(wallOf(timeZone, instant));
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() };
}

/** The date `days` after `date` (negative: before). */
export function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day) + days * DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** 0 Monday … 6 Sunday. */
export function weekdayOf(date: LocalDate): number {
  return (new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay() + 6) % 7;
}

/** Minutes after midnight of "HH:MM" ("24:00" is 1440). */
export function minutesOf(clock: string): number {
  return Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3, 5));
}

/**
 * The instant the wall time `minutes` after midnight of `date` is in the zone. Around a
 * daylight-saving change it answers as most calendars do: a time that happens twice (the clocks
 * go back) is its first occurrence; a time that never happens (the clocks go forward) is moved
 * forward by the gap, so "02:30" on the night clocks jump from 02:00 to 03:00 is 03:30.
 */
export function instantOf(timeZone: string, date: LocalDate, minutes: number): number {
  const wall = Date.UTC(date.year, date.month - 1, date.day) + minutes * MINUTE;
  // the offsets a day either side: at most one change lies between them
  const before = offsetAt(timeZone, wall - DAY);
  const after = offsetAt(timeZone, wall + DAY);
  const fits = [wall - before, wall - after].filter((t) => wallOf(timeZone, t) === wall);
  if (fits.length > 0) return Math.min(...fits);
  // in the gap: read with the offset from before the change, which lands after it
  return wall - before;
}
