/**
 * The table's filters, kept in the URL (?borough=&zip=&fareMin=&fareMax=&from=&to=)
 * so a filtered view can be shared and survives a reload, mapped to TripFilter.
 * A value that does not read as what its field needs is reported (filterProblems)
 * and the table waits for it to be fixed: dropping it would show every trip under
 * a filter the user believes is applied, and Date.parse would move 2016-02-30 to
 * March 1st.
 */
// The extension lets the gateway's tests (Node resolution) import this file; a type import, so Vite never sees it.
import type { TripFilter } from '../gql/graphql.js';

export interface Filters {
  borough: string;
  zip: string;
  fareMin: string;
  fareMax: string;
  /** Pickup time range: New York wall-clock time (YYYY-MM-DDTHH:MM, as the table shows it) or an ISO instant. */
  from: string;
  to: string;
}

const KEYS = ['borough', 'zip', 'fareMin', 'fareMax', 'from', 'to'] as const;

const LABELS: Record<keyof Filters, string> = {
  borough: 'Borough',
  zip: 'Pickup ZIP',
  fareMin: 'Fare from',
  fareMax: 'Fare to',
  from: 'Pickup from',
  to: 'Pickup before',
};

export const BOROUGHS = ['Manhattan', 'Brooklyn', 'Queens', 'Bronx', 'Staten Island'];

/** The zone the table's pickup column and the charts are shown in, so a time typed in the filter means the same. */
export const TABLE_TIME_ZONE = 'America/New_York';

export function readFilters(search: string): Filters {
  const params = new URLSearchParams(search);
  return Object.fromEntries(KEYS.map((key) => [key, params.get(key)?.trim() ?? ''])) as unknown as Filters;
}

export function filtersToSearch(filters: Filters): string {
  const params = new URLSearchParams();
  for (const key of KEYS) if (filters[key] !== '') params.set(key, filters[key]);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

type Read<T> = { value: T } | { problem: string };

const WALL_CLOCK = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?$/;
const WITH_OFFSET = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.\d{1,3})?)?(?:Z|[+-]\d\d:\d\d)$/;

/** Date.UTC without its mapping of years 0–99 to 1900–1999 (0016-02-01 was read as 1916). */
function utc(year: number, month: number, day: number, hours = 0, minutes = 0, seconds = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hours, minutes, seconds, 0);
  return date.getTime();
}

function isCalendarDay(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(utc(year, month + 1, 0)).getUTCDate();
}

/**
 * Milliseconds the zone is ahead of UTC at `utcMs`, to the second: New York's local mean time before 1883 is
 * -4:56:02 (rounded to minutes, a filter on those dates was 2 s off). Intl names years before 1 by era (year 0
 * is "1 BC").
 */
function zoneOffsetMs(utcMs: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    era: 'short',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const part = (type: string) => Number(parts.find((entry) => entry.type === type)?.value);
  const bc = parts.find((entry) => entry.type === 'era')?.value === 'BC';
  const year = bc ? 1 - part('year') : part('year');
  const local = utc(year, part('month'), part('day'), part('hour'), part('minute'), part('second'));
  return local - Math.floor(utcMs / 1000) * 1000;
}

function instant(text: string): Read<string | undefined> {
  if (text === '') return { value: undefined };
  const expected = { problem: `"${text}" is not a date and time such as 2016-02-01T07:30 (New York time)` };
  const wall = WALL_CLOCK.exec(text);
  const match = wall ?? WITH_OFFSET.exec(text);
  if (!match) return expected;
  const [year, month, day, hours, minutes] = match.slice(1, 6).map(Number) as [number, number, number, number, number];
  const seconds = Number(match[6] ?? 0);
  if (!isCalendarDay(year, month, day) || hours > 23 || minutes > 59 || seconds > 59) {
    return { problem: `"${text}" is not a real date and time` };
  }
  if (!wall) return { value: new Date(Date.parse(text)).toISOString() };
  return { value: new Date(wallClockInstant(utc(year, month, day, hours, minutes, seconds))).toISOString() };
}

/**
 * A decimal number as the fare boxes (type=number) read one: HTML's valid floating-point number. Number() also
 * takes 0x10, +5 and 1., which the box shows empty: such a URL applied a filter the page did not show.
 */
const DECIMAL = /^-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?$/;

const DAY_MS = 86_400_000;

/**
 * The instant a New York wall-clock time (given as if it were UTC) names, as PostgreSQL reads it
 * (`timestamp AT TIME ZONE`), so that a time typed in the filter means what the gateway's own time zones mean: the
 * offsets in force a day before and a day after are the candidates. A time the clocks repeat (2016-11-06T01:30)
 * is the later one, standard time; a time they skip (2016-03-13T02:30) is read with the offset before the change
 * (07:30Z). The skipped one used to come out at 06:30Z, an hour before any reading of 02:30.
 */
function wallClockInstant(asUtc: number): number {
  const before = zoneOffsetMs(asUtc - DAY_MS, TABLE_TIME_ZONE);
  const after = zoneOffsetMs(asUtc + DAY_MS, TABLE_TIME_ZONE);
  const readings = [...new Set([before, after])]
    .map((offset) => ({ offset, instant: asUtc - offset }))
    .filter(({ offset, instant }) => zoneOffsetMs(instant, TABLE_TIME_ZONE) === offset)
    .map(({ instant }) => instant);
  return readings.length === 0 ? asUtc - before : Math.max(...readings);
}

function number(text: string): Read<number | undefined> {
  if (text === '') return { value: undefined };
  const parsed = Number(text);
  return DECIMAL.test(text) && Number.isFinite(parsed) ? { value: parsed } : { problem: `"${text}" is not a number` };
}

function zip(text: string): Read<number | undefined> {
  if (text === '') return { value: undefined };
  return /^\d{5}$/.test(text) ? { value: Number(text) } : { problem: `"${text}" is not a 5-digit ZIP code` };
}

function borough(text: string): Read<string | undefined> {
  if (text === '') return { value: undefined };
  return BOROUGHS.includes(text) ? { value: text } : { problem: `"${text}" is not one of ${BOROUGHS.join(', ')}` };
}

function readAll(filters: Filters) {
  return {
    borough: borough(filters.borough),
    zip: zip(filters.zip),
    fareMin: number(filters.fareMin),
    fareMax: number(filters.fareMax),
    from: instant(filters.from),
    to: instant(filters.to),
  } satisfies Record<keyof Filters, Read<unknown>>;
}

export interface ParsedFilters {
  /** Null when no filter is set; a field that does not read is left out (the table waits for it: problems). */
  filter: TripFilter | null;
  /** What is wrong with each field that does not read, by field: the form marks them, the table waits. */
  problems: Partial<Record<keyof Filters, string>>;
}

/** The URL's filters read once: the TripFilter they make, and the fields that do not read. */
export function parseFilters(filters: Filters): ParsedFilters {
  const read = readAll(filters);
  const problems: ParsedFilters['problems'] = {};
  for (const [key, field] of Object.entries(read) as [keyof Filters, Read<unknown>][]) {
    if ('problem' in field) problems[key] = `${LABELS[key]}: ${field.problem}`;
  }
  const value = <T>(field: Read<T | undefined>): T | undefined => ('value' in field ? field.value : undefined);
  const filter: TripFilter = {};
  const pickupBorough = value(read.borough);
  if (pickupBorough !== undefined) filter.pickupBorough = { eq: pickupBorough };
  const pickupZip = value(read.zip);
  if (pickupZip !== undefined) filter.pickupZip = { eq: pickupZip };
  const fareMin = value(read.fareMin);
  const fareMax = value(read.fareMax);
  if (fareMin !== undefined || fareMax !== undefined) filter.fareAmount = { gte: fareMin, lte: fareMax };
  const from = value(read.from);
  const to = value(read.to);
  if (from !== undefined || to !== undefined) filter.pickupAt = { gte: from, lt: to };
  return { filter: Object.keys(filter).length === 0 ? null : filter, problems };
}
