import { isCalendarDay } from '../calendar.js';
import { UserInputError } from '../errors.js';
import { describeSignature, orderingSignature, type SortKey } from './ordering.js';

/**
 * A cursor is the position of a row in one ordering: the row's sort-key values
 * (as exact text: timestamps keep their microseconds, which a JS Date would
 * lose and which would make keyset pages skip or repeat rows) plus the ordering
 * signature. Opaque to clients: base64url of a small JSON array.
 */
export type CursorValues = readonly (string | null)[];

const VERSION = 1;
const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

export function encodeCursor(keys: readonly SortKey[], values: CursorValues): string {
  return cursorEncoder(keys)(values);
}

/** encodeCursor for many rows of one ordering: the signature is worked out once. */
export function cursorEncoder(keys: readonly SortKey[]): (values: CursorValues) => string {
  const signature = orderingSignature(keys);
  return (values) => Buffer.from(JSON.stringify([VERSION, signature, values])).toString('base64url');
}

export function decodeCursor(argument: string, cursor: string, keys: readonly SortKey[]): CursorValues {
  const malformed = () =>
    new UserInputError(argument, 'is not a valid cursor; pass a cursor returned by this field with the same orderBy');
  if (cursor.length === 0 || cursor.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw malformed();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || parsed[0] !== VERSION || typeof parsed[1] !== 'string') {
    throw malformed();
  }
  const [, signature, values] = parsed as [number, string, unknown];
  if (signature !== orderingSignature(keys)) {
    const issuedFor = describeSignature(signature);
    throw new UserInputError(
      argument,
      `cursor was issued for ${issuedFor === undefined ? 'a different orderBy' : `orderBy: ${issuedFor}`}; ` +
        'cursors are only valid with the ordering that produced them',
    );
  }
  if (!Array.isArray(values) || values.length !== keys.length) throw malformed();
  return keys.map((key, index) => {
    const value: unknown = values[index];
    if (value === null && key.nullable) return null;
    if (typeof value !== 'string' || !isValidKeyText(key, value)) throw malformed();
    return value;
  });
}

function isValidKeyText(key: SortKey, value: string): boolean {
  switch (key.kind) {
    case 'int8':
      return /^-?\d{1,19}$/.test(value) && BigInt(value) >= INT8_MIN && BigInt(value) <= INT8_MAX;
    case 'float8':
      return isFloat8Text(value);
    case 'timestamptz':
      // Written by cursorKeyExpression in keyset.ts: UTC, microseconds, or Postgres' infinite timestamps.
      // A real calendar day (Date.parse rolls 2016-02-30 over to March 1st) in a year Postgres has (no year 0).
      return (
        INFINITE_TIMESTAMPS.has(value) ||
        (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(value) &&
          !Number.isNaN(Date.parse(value)) &&
          value.slice(0, 4) !== '0000' &&
          new Date(value).toISOString().slice(0, 10) === value.slice(0, 10)) ||
        isEraTimestampText(value)
      );
  }
}

const INFINITE_TIMESTAMPS = new Set(['infinity', '-infinity']);

/**
 * The form cursorKeyExpression writes for instants outside the years 0001–9999 (BC ones, or past 9999), which
 * the plain form cannot say: `44-03-15T…Z BC` read as AD would put the cursor two thousand years off. Checked
 * as Postgres would read it (a real day of the proleptic Gregorian calendar, a time of day, inside timestamptz'
 * range: 4714-11-24 BC to 294276 AD), so a forged one is refused rather than failing in the database.
 */
function isEraTimestampText(value: string): boolean {
  const match = /^(\d{4,6})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.\d{6}Z (AD|BC)$/.exec(value);
  if (!match) return false;
  const [year, month, day, hours, minutes, seconds] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const bc = match[7] === 'BC';
  if (year < 1 || hours > 23 || minutes > 59 || seconds > 59 || !isCalendarDay(bc ? 1 - year : year, month, day)) {
    return false;
  }
  if (bc) return year < 4714 || (year === 4714 && (month > 11 || (month === 11 && day >= 24)));
  return year <= 294276;
}

// What float8::text writes (cursorKeyExpression): a decimal, maybe with an exponent, or one of the special values a
// synced double column can hold (Delta doubles can be NaN or infinite, and such a row must not end the paging).
const FLOAT8_TEXT = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$/i;
const FLOAT8_SPECIAL = new Set(['NaN', 'Infinity', '-Infinity']);

/**
 * Whether Postgres reads `value` as a float8 the way a cursor written by this gateway holds it. Number() alone
 * also reads "0b11", "0x1f" and " 1 ", and turns "1e-400" into 0 where Postgres refuses it as out of range:
 * such a cursor reached the statement and came back as an internal error.
 */
function isFloat8Text(value: string): boolean {
  if (FLOAT8_SPECIAL.has(value)) return true;
  if (value.length > 64 || !FLOAT8_TEXT.test(value)) return false;
  const number = Number(value);
  if (!Number.isFinite(number)) return false;
  // Underflow: non-zero digits that round to 0.
  return number !== 0 || !/[1-9]/.test(value.replace(/e.*$/i, ''));
}
