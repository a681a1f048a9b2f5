import { CompiledQuery } from 'kysely';
import type { Db } from '../db/database.js';
import { gatewayError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * How the gateway says that live changes are not exact: the key high-water fallback (trip-feed.ts) serves
 * tripsAdded when the change capture is switched off or cannot be installed. The warning names the limitation
 * and the grant (or setting) that removes it.
 */
export interface KeyFallbackContext {
  /** LIVE_CHANGE_CAPTURE=off: the advice is to switch it on, not a grant. */
  switchedOff: boolean;
  /** The synced table, qualified. */
  synced: string;
  gatewaySchema: string;
}

const CONSEQUENCE =
  'tripsAdded falls back to the key high-water mark (id > newest id streamed): a row whose id is not above ' +
  'the newest one streamed, or that commits after a higher id, is never streamed; tripChanges is unavailable. ';

/** Logs the startup warning, with whether the role could use logical replication instead (rolreplication). */
export async function warnKeyFallback(
  db: Db,
  logger: Logger,
  context: KeyFallbackContext,
  reason: string,
): Promise<void> {
  let replication = false;
  try {
    const { rows } = await db.executeQuery<{ replication: boolean }>(
      CompiledQuery.raw('SELECT rolreplication AS replication FROM pg_roles WHERE rolname = current_user'),
    );
    replication = rows[0]?.replication === true;
  } catch {
    // The warning below is what matters.
  }
  logger.warn(
    context.switchedOff
      ? `live changes: NOT exact. LIVE_CHANGE_CAPTURE=off, so ${CONSEQUENCE}Fix: unset LIVE_CHANGE_CAPTURE (or set it to auto) and restart.`
      : `live changes: NOT exact. The change capture cannot be installed, so ${CONSEQUENCE}` +
          `Fix: GRANT TRIGGER ON ${context.synced} TO <the gateway role>, and let that role create objects in ` +
          `schema ${context.gatewaySchema} (GRANT CREATE ON SCHEMA ... or make it the owner), then restart.`,
    { reason, replicationRole: replication, mechanism: 'key-high-water' },
  );
}

/** What tripChanges answers while the fallback serves: it has no exact stream to offer. */
export function captureUnavailable(context: KeyFallbackContext) {
  return gatewayError(
    'CHANGE_CAPTURE_UNAVAILABLE',
    context.switchedOff
      ? 'tripChanges: the change capture is switched off on this gateway (LIVE_CHANGE_CAPTURE=off), so changes ' +
          'cannot be streamed exactly; see /health (liveChanges).'
      : 'tripChanges: this gateway cannot capture changes exactly (the role may not install the change capture ' +
          `on ${context.synced}); GRANT TRIGGER on it to the gateway's role and restart. See /health (liveChanges).`,
  );
}
