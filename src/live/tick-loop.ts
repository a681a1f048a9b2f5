import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';

const MAX_BACKOFF_MS = 5000;

export interface TickLoopOptions {
  logger: Logger;
  /** One tick's work. A rejection counts as a failed tick: the next comes after a backoff. */
  run(): Promise<void>;
  /** Whether anyone needs ticks at all (with no subscribers there are none). */
  busy(): boolean;
  /** Whether the next tick should come at once (subscribers waiting for their first statement). */
  urgent(): boolean;
  /** The poll in force, from one tick's start to the next one's. */
  pollIntervalMs(): number;
  /** The feed's counters: ticks run, and ticks that failed. */
  counters: { ticks: number; failedStatements: number };
}

/** What both live feeds count (their stats() and the metrics read them); a feed may add its own. */
export function feedCounters() {
  return {
    ticks: 0,
    feedStatements: 0,
    catchUpStatements: 0,
    failedStatements: 0,
    directEvents: 0,
    rowsDelivered: 0,
    tooSlow: 0,
  };
}

/**
 * When a live feed ticks (trip-feed.ts and change-feed.ts share it): every
 * poll interval while anyone subscribes, at once when woken, at most one tick
 * at a time (wake-ups during a tick collapse into one more), and after a
 * failure with a backoff from 100 ms doubling to 5 s, which wake-ups do not
 * cut short: they would only hammer a database that is down.
 */
export class TickLoop {
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private rerun = false;
  private failures = 0;
  private stopped = false;

  constructor(private readonly options: TickLoopOptions) {}

  get running(): boolean {
    return this.current !== undefined;
  }

  wake(reason = 'wake'): void {
    if (this.stopped || !this.options.busy()) return;
    if (this.current) {
      this.rerun = true;
      return;
    }
    if (this.failures > 0) {
      if (!this.timer) this.schedule(this.backoffMs());
      return;
    }
    this.options.logger.debug('live feed woken', { reason });
    this.schedule(0);
  }

  /** No ticks after this; resolves once the tick in flight (if any) is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
  }

  /** Nobody needs ticks any more: drop the pending poll (a tick in flight schedules nothing after itself). */
  idle(): void {
    if (this.options.busy() || this.current) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
    // The feed alone must not keep a process (a CLI, a test) alive.
    this.timer.unref();
  }

  private tick(): Promise<void> {
    this.timer = undefined;
    if (this.current) {
      this.rerun = true;
      return this.current;
    }
    this.rerun = false;
    const startedAt = Date.now();
    this.current = this.runOnce().finally(() => {
      this.current = undefined;
      this.scheduleNext(Date.now() - startedAt);
    });
    return this.current;
  }

  private async runOnce(): Promise<void> {
    const { counters, logger } = this.options;
    counters.ticks += 1;
    try {
      await this.options.run();
      if (this.failures > 0) logger.info('live feed recovered', { failedTicks: this.failures });
      this.failures = 0;
    } catch (error) {
      this.failures += 1;
      counters.failedStatements += 1;
      logger.warn('live feed tick failed; retrying', {
        attempt: this.failures,
        retryInMs: this.backoffMs(),
        error: describeError(error),
      });
    }
  }

  /** Polls keep their cadence from tick start to tick start, however long a fan-out took. */
  private scheduleNext(tookMs: number): void {
    if (this.stopped) return;
    if (this.failures > 0) this.schedule(this.backoffMs());
    else if (this.rerun || this.options.urgent()) this.schedule(0);
    else if (this.options.busy()) this.schedule(Math.max(0, this.options.pollIntervalMs() - tookMs));
  }

  private backoffMs(): number {
    return Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(this.failures, 10));
  }
}
