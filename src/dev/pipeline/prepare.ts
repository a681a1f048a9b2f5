import type pg from 'pg';
import { ensureSyncedTable } from '../synced-table.js';
import { ensureChangeFeed } from './change-feed-schema.js';
import type { PipelineNames, SchedulingPolicy } from './names.js';
import { ensurePipelineSchema } from './pipeline-schema.js';
import { ensureSyncedTableState, type SyncedTableState } from './state.js';

/** Creates whatever is missing: synced table, source table with its change feed, pipeline state. Idempotent. */
export async function preparePipeline(
  db: pg.ClientBase | pg.Pool,
  names: PipelineNames,
  policy?: SchedulingPolicy,
): Promise<SyncedTableState> {
  await ensureSyncedTable(db, names.syncedSchema, names.syncedTable);
  await ensureChangeFeed(db, names);
  await ensurePipelineSchema(db, names);
  return ensureSyncedTableState(db, names, policy);
}
