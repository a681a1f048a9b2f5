import type { Db } from '../db/database.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CaptureRelations } from './capture/queries.js';
import { pruneChangeRecord } from './capture/retention.js';

export interface ChangePrunerOptions {
  db: Db;
  relations: CaptureRelations;
  retentionSeconds: number;
  logger: Logger;
  /** While true (db/database-activity.ts), no pruning. */
  paused: () => boolean;
}

/**
 * Applies LIVE_CHANGE_RETENTION_SECONDS to the change record, at a quarter of the retention (between 1 s and
 * 5 min), from now until stopped. Returns the stop.
 */
export function startChangePruning({
  db,
  relations,
  retentionSeconds,
  logger,
  paused,
}: ChangePrunerOptions): () => void {
  const everyMs = Math.max(1000, Math.min(300_000, (retentionSeconds * 1000) / 4));
  const prune = async () => {
    // Retention is a bound, not a schedule: a paused gateway prunes at its first tick after resuming.
    if (paused()) return;
    try {
      const result = await pruneChangeRecord(db, relations, retentionSeconds);
      if (result.dropped > 0) logger.info('pruned the change record', { ...result });
    } catch (error) {
      logger.warn('cannot prune the change record; will retry', { error: describeError(error) });
    }
  };
  void prune();
  const timer = setInterval(() => void prune(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
