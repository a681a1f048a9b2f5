/**
 * Validation and normalisation of the CSV export's values into COPY text.
 * Every value is checked here, so a bad line is reported with its file, line
 * and column instead of as a Postgres error about "COPY line n".
 */

/** A value for COPY, or null for SQL NULL. Throws a message (without position) on bad input. */
export type ValueConverter = (raw: string) => string | null;

export class ValueError extends Error {}

const INT32_MAX = 2147483647;
const BIGINT_MAX = 9223372036854775807n;

// 2016-02-14T16:52:13.000+0000, 2016-02-14 16:52:13, …Z, …+00:00, …-05
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?\s*(?:(Z)|([+-])(\d{2}):?(\d{2})?)?$/i;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
// Tools that write integer columns holding NULLs as floats produce "10001.0".
const INTEGER = /^([+-]?\d+)(?:\.0*)?$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
}

/**
 * Timestamps without an offset are taken as UTC: samples.nyctaxi.trips stores
 * NYC wall-clock times as UTC, and its export prints them with +0000.
 */
export const timestampValue: ValueConverter = (raw) => {
  const m = TIMESTAMP.exec(raw);
  if (!m) throw new ValueError(`expected a timestamp like 2016-02-14T16:52:13.000+0000, got "${raw}"`);
  const [, y, mo, d, h, mi, s = '00', fraction = '', zulu, sign, offsetH, offsetM = '00'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new ValueError(`"${raw}" is not a calendar date`);
  }
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59 || Number(offsetH ?? 0) > 15 || Number(offsetM) > 59) {
    throw new ValueError(`"${raw}" is not a valid time of day`);
  }
  const offset = zulu !== undefined || sign === undefined ? '+00:00' : `${sign}${offsetH}:${offsetM}`;
  return `${y}-${mo}-${d} ${h}:${mi}:${s}${fraction}${offset}`;
};

export const doubleValue: ValueConverter = (raw) => {
  if (!DECIMAL.test(raw) || !Number.isFinite(Number(raw))) throw new ValueError(`expected a number, got "${raw}"`);
  return raw;
};

export const integerValue: ValueConverter = (raw) => {
  const m = INTEGER.exec(raw);
  const digits = m?.[1];
  if (digits === undefined) throw new ValueError(`expected an integer, got "${raw}"`);
  if (Math.abs(Number(digits)) > INT32_MAX) throw new ValueError(`${raw} is out of range for an integer column`);
  return String(Number(digits));
};

export function idValue(raw: string): string {
  if (!/^\d+$/.test(raw) || BigInt(raw) > BIGINT_MAX) {
    throw new ValueError(`expected a non-negative 64-bit integer id, got "${raw}"`);
  }
  return raw;
}

/** Empty (or blank) fields are NULL, as in a Databricks CSV export. */
export function nullable(convert: ValueConverter): ValueConverter {
  return (raw) => {
    const value = raw.trim();
    return value === '' ? null : convert(value);
  };
}
