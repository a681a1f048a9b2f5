import pg from 'pg';

/**
 * `timestamptz` text → Date, the same Date pg's default parser (postgres-date)
 * makes, without its three regular expressions and its string splitting.
 *
 * Why: a page of 100 trips carries 200 instants, and postgres-date was the
 * largest single cost of the gateway's CPU per page after socket writes (about
 * a tenth of its busy time in `npx tsx bench/gateway-cpu.ts --profile`; see
 * docs/performance.md, "Trips and aggregates, 2026-12-03"). Postgres writes a timestamptz in one
 * fixed shape whenever DateStyle is ISO (its default, and the only style
 * postgres-date reads): `YYYY-MM-DD HH:MM:SS[.ffffff]±HH[:MM[:SS]]`. That
 * shape is read here by character position. Anything else (BC years, years
 * before 100 or after 9999, infinity, another DateStyle) goes to postgres-date
 * unchanged, so the result is never different, only sometimes slower.
 */
export function parseTimestamptz(text: string): Date | number | null {
  const n = text.length;
  // 22 = the shortest: "2016-01-01 00:00:00+00". Positions 4…19 are fixed in the ISO style.
  if (
    n < 22 ||
    text.charCodeAt(4) !== DASH ||
    text.charCodeAt(7) !== DASH ||
    text.charCodeAt(10) !== SPACE ||
    text.charCodeAt(13) !== COLON ||
    text.charCodeAt(16) !== COLON
  ) {
    return fallback(text);
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hours = digits(text, 11, 2);
  const minutes = digits(text, 14, 2);
  const seconds = digits(text, 17, 2);
  // postgres-date leaves years 0–99 to a second step (Date.UTC maps them to 19xx); rare enough to hand over.
  if (year < 100 || month < 0 || day < 0 || hours < 0 || minutes < 0 || seconds < 0) return fallback(text);

  let at = 19;
  let millis = 0;
  if (text.charCodeAt(at) === DOT) {
    // Postgres prints 1–6 fraction digits; the Date keeps milliseconds, truncated as postgres-date's are.
    const start = ++at;
    while (at < n && isDigit(text.charCodeAt(at))) at++;
    const count = at - start;
    if (count === 0 || count > 6) return fallback(text);
    const kept = Math.min(count, 3);
    millis = digits(text, start, kept) * (kept === 1 ? 100 : kept === 2 ? 10 : 1);
  }

  const sign = text.charCodeAt(at);
  if (sign !== PLUS && sign !== MINUS) return fallback(text);
  const zoneHours = digits(text, at + 1, 2);
  if (zoneHours < 0) return fallback(text);
  at += 3;
  let zoneSeconds = zoneHours * 3600;
  // Offsets with minutes (+05:30) and, for local mean time before 1900 or so, seconds (+00:19:32).
  if (at < n) {
    const zoneMinutes = text.charCodeAt(at) === COLON ? digits(text, at + 1, 2) : -1;
    if (zoneMinutes < 0) return fallback(text);
    zoneSeconds += zoneMinutes * 60;
    at += 3;
  }
  if (at < n) {
    const zoneSecondsPart = text.charCodeAt(at) === COLON ? digits(text, at + 1, 2) : -1;
    if (zoneSecondsPart < 0) return fallback(text);
    zoneSeconds += zoneSecondsPart;
    at += 3;
  }
  if (at !== n || month < 1 || month > 12 || day < 1 || day > 31) return fallback(text);

  const local = (daysFromCivil(year, month, day) * 86400 + hours * 3600 + minutes * 60 + seconds) * 1000 + millis;
  return new Date(local - (sign === MINUS ? -zoneSeconds : zoneSeconds) * 1000);
}

/**
 * Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil): plain arithmetic, cheaper than Date.UTC's argument
 * coercions, and the same day for every valid date.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

const DASH = 0x2d;
const SPACE = 0x20;
const COLON = 0x3a;
const DOT = 0x2e;
const PLUS = 0x2b;
const MINUS = 0x2d;
const ZERO = 0x30;

function isDigit(code: number): boolean {
  return code >= ZERO && code <= ZERO + 9;
}

/** The decimal value of `count` digits at `start`, or -1 when one of them is not a digit (or past the end). */
function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const code = text.charCodeAt(i); // NaN past the end: not a digit
    if (!isDigit(code)) return -1;
    value = value * 10 + (code - ZERO);
  }
  return value;
}

const TIMESTAMPTZ_OID = 1184;
const defaultTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (text: string) => Date | number | null;

function fallback(text: string): Date | number | null {
  return defaultTimestamptz(text);
}

/**
 * pg's type parsers with timestamptz read by `parseTimestamptz`: passed as a
 * pool's `types`, so it applies to the gateway's connections only, not to the
 * process-wide `pg.types` other code (or a benchmark's plain-`pg` baseline)
 * relies on.
 */
export const gatewayTypeParsers: { getTypeParser: typeof pg.types.getTypeParser } = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMPTZ_OID && (format ?? 'text') === 'text'
      ? parseTimestamptz
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};
