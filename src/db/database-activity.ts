import type { Logger } from '../logger.js';

/**
 * Lets a scale-to-zero database sleep while nobody uses the gateway.
 *
 * Lakebase Autoscaling suspends a compute after a period with no queries (open
 * idle connections do not count, and are closed when it suspends); a query or
 * a new connection wakes it. The gateway's own background work would keep it
 * awake for ever: the rollup maintainer's signature poll, pruning the change
 * record, and the LISTEN connection's recycling and reconnects. So after
 * `idleAfterMs` with no request and no subscriber that work pauses (each asks
 * `paused` before it queries), and the next request resumes it (`touch`).
 *
 * Nothing a request reads depends on that work: every aggregate proves its
 * rollup fresh in its own statement, the response cache reads the table's
 * version per request, and the live feed only runs for subscribers (who keep
 * the gateway active). What pausing costs is warmth: the first aggregate
 * after a pause may come from the synced table while the rollup catches up.
 */
export class DatabaseActivity {
  #last: number;
  #pausedLogged = false;
  readonly #resumers: (() => void)[] = [];

  constructor(
    private readonly options: {
      /** 0: never pause. */
      idleAfterMs: number;
      /** True while anyone subscribes (a subscriber is activity even without requests). */
      busy: () => boolean;
      logger: Logger;
      now?: () => number;
    },
  ) {
    this.#last = this.#now();
  }

  /** DB_IDLE_AFTER_MS (0: never pause). */
  get idleAfterMs(): number {
    return this.options.idleAfterMs;
  }

  /** Whether background work should leave the database alone now. */
  get paused(): boolean {
    const { idleAfterMs } = this.options;
    if (idleAfterMs <= 0 || this.#now() - this.#last < idleAfterMs) return false;
    if (this.options.busy()) {
      this.#last = this.#now();
      return false;
    }
    if (!this.#pausedLogged) {
      this.#pausedLogged = true;
      this.options.logger.info(
        'no request or subscriber for a while: background database work paused until the next request, ' +
          'so a scale-to-zero compute can suspend (DB_IDLE_AFTER_MS)',
        { idleAfterMs },
      );
    }
    return true;
  }

  /** A request: activity now. Resumes paused background work. */
  touch(): void {
    this.#last = this.#now();
    if (!this.#pausedLogged) return;
    this.#pausedLogged = false;
    this.options.logger.info('a request arrived: background database work resumed');
    for (const resume of this.#resumers) resume();
  }

  /** Called when a request ends a pause (after `paused` was seen true). */
  onResume(resume: () => void): void {
    this.#resumers.push(resume);
  }

  #now(): number {
    return (this.options.now ?? Date.now)();
  }
}
