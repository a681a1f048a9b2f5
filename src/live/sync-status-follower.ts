import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CachedSyncStatus } from '../sync/cached-sync-status.js';

/**
 * Wakes the feed whenever the sync status changes (a new lastSync means new rows may be there), while anyone
 * subscribes. Where nothing NOTIFYs (Lakebase's managed pipeline), this is sooner than the feed's poll.
 * Returns the switch the feeds call with their activity (false also stops following).
 */
export function syncStatusFollower(
  syncStatus: Pick<CachedSyncStatus, 'subscribe'> | undefined,
  wake: (reason: string) => void,
  logger: Logger,
): (active: boolean) => void {
  let following: AbortController | undefined;
  return (active) => {
    if (!syncStatus) return;
    if (active && !following) {
      const controller = new AbortController();
      following = controller;
      void (async () => {
        try {
          for await (const _status of syncStatus.subscribe(controller.signal)) wake('sync status changed');
        } catch (error) {
          logger.warn('stopped following the sync status; the feed still polls', { error: describeError(error) });
        }
      })();
    } else if (!active && following) {
      following.abort();
      following = undefined;
    }
  };
}
