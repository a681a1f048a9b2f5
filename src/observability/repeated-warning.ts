import type { Logger } from '../logger.js';

/**
 * A warning that repeats for as long as an outage lasts (at every poll of a maintainer): said at most once per
 * interval, with how many were left out, and its end said once. Every ROLLUP_POLL_MS (10 s) a credential or
 * database outage logged the same two lines again.
 */
export class RepeatedWarning {
  #last: { at: number; leftOut: number } | undefined;

  constructor(
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
    private readonly message: string,
    private readonly intervalMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(fields: Record<string, unknown>): void {
    const now = this.now();
    const last = this.#last;
    if (last && now - last.at < this.intervalMs) {
      last.leftOut += 1;
      return;
    }
    this.#last = { at: now, leftOut: 0 };
    this.logger.warn(this.message, { ...fields, ...(last?.leftOut ? { sameWarningsLeftOut: last.leftOut } : {}) });
  }

  /** The condition is over: `message` is logged if it was warned of, and the next occurrence is warned of at once. */
  clear(message: string, fields: Record<string, unknown> = {}): void {
    if (this.#last === undefined) return;
    this.#last = undefined;
    this.logger.info(message, fields);
  }
}
