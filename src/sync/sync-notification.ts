import { DEFAULT_NOTIFY_CHANNEL } from '../config/variables.js';

/**
 * Postgres NOTIFY contract between whatever syncs the synced table and the
 * gateway's live feeds. The local pipeline emulation sends it in the same
 * transaction as the rows it applies, so a listener that wakes on it and then
 * queries is guaranteed to see those rows. (Lakebase's managed pipeline sends
 * nothing; there the gateway's own change trigger, when installed, sends
 * TableChangeNotification on the same channel, else the gateway polls.)
 */

/** LIVE_NOTIFY_CHANNEL's default: configuration owns the name, so config does not import sync. */
export const SYNC_NOTIFY_CHANNEL = DEFAULT_NOTIFY_CHANNEL;

export interface SyncNotification {
  /** "sync": rows were applied. "status": only the sync status changed (update started, failed...). */
  event: 'sync' | 'status';
  /** Postgres schema and table of the synced table. */
  schema: string;
  table: string;
  /** Source commit version the synced table now reflects; null before the first sync. */
  version: number | null;
  /** True when the sync rewrote the whole table (ids are kept, only changed rows differ). */
  snapshot: boolean;
  /** The synced table's detailed_state after the event. */
  state: string;
}

/** Parses a notification payload; null (not an exception) for anything malformed, since any session may NOTIFY. */
export function parseSyncNotification(payload: string | undefined): SyncNotification | null {
  if (payload === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  const { event, schema, table, version, snapshot, state } = record;
  if (event !== 'sync' && event !== 'status') return null;
  if (typeof schema !== 'string' || typeof table !== 'string' || typeof state !== 'string') return null;
  if (version !== null && (typeof version !== 'number' || !Number.isSafeInteger(version))) return null;
  if (typeof snapshot !== 'boolean') return null;
  return { event, schema, table, version, snapshot, state };
}

/**
 * Sent by the gateway's change trigger on the synced table (see
 * src/aggregates/rollup/change-trigger.ts) for every statement that writes it,
 * delivered at commit like any NOTIFY. Unlike the sync events it needs nothing
 * from whatever writes the table, so it also reaches gateways on Lakebase,
 * whose managed pipeline sends no notifications.
 */
export interface TableChangeNotification {
  event: 'change';
  schema: string;
  table: string;
}

export function parseTableChange(payload: string | undefined): TableChangeNotification | null {
  if (payload === undefined) return null;
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value !== 'object' || value === null) return null;
    const { event, schema, table } = value as Record<string, unknown>;
    if (event !== 'change' || typeof schema !== 'string' || typeof table !== 'string') return null;
    return { event, schema, table };
  } catch {
    return null;
  }
}
