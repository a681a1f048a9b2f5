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
  /** Arguments and options, e.g. "--rows N [--seed N]". */
  usage: string;
  run(args: string[], context: CliContext): Promise<void>;
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
