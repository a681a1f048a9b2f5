import type pg from 'pg';
import { ensureSyncedTable } from '../synced-table.js';
import { ensureChangeFeed } from './change-feed-schema.js';
import { relations, type PipelineNames, type SchedulingPolicy } from './names.js';
import { ensurePipelineSchema } from './pipeline-schema.js';
import { awaitInitialSnapshotAgain, ensureSyncedTableState, type SyncedTableState } from './state.js';

/**
 * Creates whatever is missing: synced table, source table with its change feed, pipeline state. Idempotent.
 * A synced table dropped after it was synced comes back empty: its state is reset so that the initial snapshot
 * runs again (as Databricks provisions a synced table), rather than the next incremental update being applied
 * to an empty table while the status said it was in sync.
 */
export async function preparePipeline(
  db: pg.ClientBase | pg.Pool,
  names: PipelineNames,
  policy?: SchedulingPolicy,
): Promise<SyncedTableState> {
  const { rows } = await db.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [
    relations(names).synced,
  ]);
  const existed = rows[0]?.present === true;
  await ensureSyncedTable(db, names.syncedSchema, names.syncedTable);
  await ensureChangeFeed(db, names);
  await ensurePipelineSchema(db, names);
  const state = await ensureSyncedTableState(db, names, policy);
  if (existed || state.lastProcessedVersion === null) return state;
  await awaitInitialSnapshotAgain(db, names);
  return { ...state, lastProcessedVersion: null };
}
