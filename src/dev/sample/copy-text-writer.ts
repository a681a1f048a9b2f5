/**
 * Writes rows of Postgres COPY text format straight into a byte buffer:
 * ASCII digits, tab separators, \N for NULL, newline per row. Formatting
 * numbers and timestamps by hand avoids a string (and a Date) per value,
 * which is what keeps generation well ahead of the database.
 */
import { SAMPLE_EPOCH_SECONDS } from './demand-curve.js';

const TAB = 0x09;
const NEWLINE = 0x0a;
const ZERO = 0x30;
const DOT = 0x2e;
const COLON = 0x3a;
const BACKSLASH = 0x5c;
const CAPITAL_N = 0x4e;
const PLUS = 0x2b;

/** Longest row this writer can emit (id of 16 digits, two timestamps, two decimals, two ZIPs) with margin. */
export const MAX_TRIP_ROW_BYTES = 160;

/** "YYYY-MM-DD " for each day from the sample epoch; trips end at most a day after the last one starts. */
const DAY_PREFIXES: Uint8Array[] = Array.from({ length: 70 }, (_, day) =>
  Buffer.from(`${new Date((SAMPLE_EPOCH_SECONDS + day * 86400) * 1000).toISOString().slice(0, 10)} `, 'latin1'),
);

export class CopyTextWriter {
  pos = 0;

  constructor(readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  tab(): void {
    this.buf[this.pos++] = TAB;
  }

  endRow(): void {
    this.buf[this.pos++] = NEWLINE;
  }

  nullValue(): void {
    this.buf[this.pos++] = BACKSLASH;
    this.buf[this.pos++] = CAPITAL_N;
  }

  /** A non-negative integer below 2^53. */
  uint(value: number): void {
    const buf = this.buf;
    if (value < 10) {
      buf[this.pos++] = ZERO + value;
      return;
    }
    let digits = 1;
    for (let v = value; v >= 10; v = Math.floor(v / 10)) digits++;
    const start = this.pos;
    this.pos = start + digits;
    let v = value;
    for (let at = this.pos - 1; at > start; at--) {
      const q = Math.floor(v / 10);
      buf[at] = ZERO + (v - q * 10);
      v = q;
    }
    buf[start] = ZERO + v;
  }

  /** A non-negative number given in hundredths, as "12.34". */
  hundredths(value: number): void {
    const whole = Math.floor(value / 100);
    const cents = value - whole * 100;
    this.uint(whole);
    const buf = this.buf;
    buf[this.pos++] = DOT;
    buf[this.pos++] = ZERO + Math.floor(cents / 10);
    buf[this.pos++] = ZERO + (cents % 10);
  }

  private twoDigits(value: number): void {
    this.buf[this.pos++] = ZERO + Math.floor(value / 10);
    this.buf[this.pos++] = ZERO + (value % 10);
  }

  /** Seconds from the sample epoch as "2016-01-05 08:12:33+00". */
  sampleTimestamp(seconds: number): void {
    const day = Math.floor(seconds / 86400);
    const prefix = DAY_PREFIXES[day];
    if (prefix === undefined)
      throw new RangeError(`timestamp ${seconds}s after 2016-01-01 is outside the sample range`);
    const buf = this.buf;
    for (let k = 0; k < prefix.length; k++) buf[this.pos++] = prefix[k] as number;
    let rest = seconds - day * 86400;
    const hours = Math.floor(rest / 3600);
    rest -= hours * 3600;
    const minutes = Math.floor(rest / 60);
    this.twoDigits(hours);
    buf[this.pos++] = COLON;
    this.twoDigits(minutes);
    buf[this.pos++] = COLON;
    this.twoDigits(rest - minutes * 60);
    buf[this.pos++] = PLUS;
    buf[this.pos++] = ZERO;
    buf[this.pos++] = ZERO;
  }
}
