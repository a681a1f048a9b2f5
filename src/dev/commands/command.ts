/** What each `npm run data -- <command>` module provides, and what the dispatcher gives it. */
import type { DevDatabase } from '../dev-database.js';

export interface CliContext {
  env: Readonly<Record<string, string | undefined>>;
  /** Prints one line of output. */
  out(line: string): void;
  /** Opens the database to work on: the configured one, else the embedded development database. */
  database(): Promise<DevDatabase>;
}

export interface Command {
  /** One line for the command list. */
  summary: string;
  /** Arguments and options, e.g. "--rows N [--seed N]"; omitted by commands that answer --help themselves. */
  usage?: string;
  run(args: string[], context: CliContext): Promise<void>;
}

/** A command that names itself (the pipeline commands). */
export interface DevCommand extends Command {
  name: string;
}

/** Bad arguments: the dispatcher prints the message with the command's usage. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function integerOption(name: string, raw: string | undefined, fallback: number, min = 0): number {
  if (raw === undefined) return fallback;
  const value = Number(raw.replace(/_/g, ''));
  if (!/^\d[\d_]*$/.test(raw) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`--${name}: expected an integer of at least ${min}, got "${raw}"`);
  }
  return value;
}

export function formatRate(rows: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (rows / elapsedMs) * 1000 : 0;
  return `${rows.toLocaleString('en-US')} rows in ${(elapsedMs / 1000).toFixed(1)} s (${Math.round(rate).toLocaleString('en-US')} rows/s)`;
}

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses "500ms", "15s", "2m", "12h", "7d"; a bare number means seconds. */
export function parseDuration(raw: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!match) throw new Error(`${option}: expected a duration like 500ms, 15s, 2m, 12h or 7d, got "${raw}"`);
  const unit = (match[2] ?? 's') as keyof typeof DURATION_UNITS_MS;
  return Math.round(Number(match[1]) * DURATION_UNITS_MS[unit]);
}

export function parseCount(raw: string | undefined, option: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new Error(`${option}: expected a whole number, got "${raw}"`);
  return Number(raw);
}

export function parseNumber(raw: string | undefined, option: string): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new Error(`${option}: expected a number, got "${raw}"`);
  return value;
}

/** The range of the columns' types (integer ZIPs, bigint ids): outside it Postgres refused with its own words. */
const INT4 = { min: -(2n ** 31n), max: 2n ** 31n - 1n };
const INT8 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

function inRange(text: string, range: { min: bigint; max: bigint }): boolean {
  const value = BigInt(text);
  return value >= range.min && value <= range.max;
}

/** A ZIP code option (an integer column): a whole number within the column's range. */
export function parseZip(raw: string | undefined, option: string): number | undefined {
  if (raw === undefined) return undefined;
  const text = raw.trim();
  if (!/^-?\d+$/.test(text) || !inRange(text, INT4)) {
    throw new Error(`${option}: expected a ZIP code (a whole number, e.g. 10001), got "${raw}"`);
  }
  return Number(text);
}

/** A trip id (a bigint column), in its plain form (`00012` is 12). */
export function parseId(raw: string, option: string): string {
  const text = raw.trim();
  if (!/^-?\d+$/.test(text) || !inRange(text, INT8)) {
    throw new Error(`${option}: expected an integer id from ${INT8.min} to ${INT8.max}, got "${raw}"`);
  }
  return BigInt(text).toString();
}

export function parseIds(raw: string, option: string): string[] {
  const ids = raw.split(',').map((part) => part.trim());
  const bad = ids.find((id) => !/^-?\d+$/.test(id) || !inRange(id, INT8));
  if (bad !== undefined) throw new Error(`${option}: expected comma-separated integer ids, got "${bad}"`);
  return ids;
}

/** Resolves on Ctrl-C / SIGTERM, for commands that run until stopped. */
export function untilInterrupted(): { promise: Promise<void>; dispose(): void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  const onSignal = () => resolve();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    promise,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
