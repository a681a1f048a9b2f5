/** Queries on the pipeline's status row (lakebase_dev_pipeline.synced_tables). */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { SYNC_NOTIFY_CHANNEL, type SyncNotification } from '../../sync/sync-notification.js';
import {
  relations,
  sourceTableFullName,
  syncedTableFullName,
  type PipelineNames,
  type SchedulingPolicy,
} from './names.js';
import { isoTimestamp, type Queryable } from './sql.js';
import { completeUpdates } from './updates.js';

export interface SyncedTableState {
  name: string;
  sourceTableFullName: string;
  schedulingPolicy: SchedulingPolicy;
  pipelineId: string;
  detailedState: string;
  message: string | null;
  /** Null until the initial snapshot has completed. */
  lastProcessedVersion: number | null;
  lastCommitTimestamp: string | null;
  lastSyncStart: string | null;
  lastSyncEnd: string | null;
  failedAt: string | null;
}

interface StateRow {
  name: string;
  source_table_full_name: string;
  scheduling_policy: SchedulingPolicy;
  pipeline_id: string;
  detailed_state: string;
  message: string | null;
  last_processed_commit_version: string | null;
  last_commit_timestamp: string | null;
  last_sync_start: string | null;
  last_sync_end: string | null;
  failed_at: string | null;
}

const STATE_COLUMNS = `name, source_table_full_name, scheduling_policy, pipeline_id, detailed_state, message,
  last_processed_commit_version, ${isoTimestamp('last_commit_timestamp')} AS last_commit_timestamp,
  ${isoTimestamp('last_sync_start')} AS last_sync_start, ${isoTimestamp('last_sync_end')} AS last_sync_end,
  ${isoTimestamp('failed_at')} AS failed_at`;

const toState = (row: StateRow): SyncedTableState => ({
  name: row.name,
  sourceTableFullName: row.source_table_full_name,
  schedulingPolicy: row.scheduling_policy,
  pipelineId: row.pipeline_id,
  detailedState: row.detailed_state,
  message: row.message,
  lastProcessedVersion: row.last_processed_commit_version === null ? null : Number(row.last_processed_commit_version),
  lastCommitTimestamp: row.last_commit_timestamp,
  lastSyncStart: row.last_sync_start,
  lastSyncEnd: row.last_sync_end,
  failedAt: row.failed_at,
});

/** The state a synced table rests in between syncs under a policy. */
export function idleState(policy: SchedulingPolicy): string {
  return policy === 'CONTINUOUS' ? 'SYNCED_TABLE_ONLINE_CONTINUOUS_UPDATE' : 'SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE';
}

/**
 * Registers the synced table with the pipeline (like creating the synced table
 * in Unity Catalog). With a policy, an existing registration switches to it.
 */
export async function ensureSyncedTableState(
  db: Queryable,
  names: PipelineNames,
  policy: SchedulingPolicy | undefined,
): Promise<SyncedTableState> {
  const r = relations(names);
  await db.query(
    `INSERT INTO ${r.syncedTables} (synced_schema, synced_table, name, source_schema, source_table,
       source_table_full_name, scheduling_policy, pipeline_id, detailed_state, message)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'SYNCED_TABLE_PROVISIONING', 'Waiting for the initial snapshot.')
     ON CONFLICT (synced_schema, synced_table) DO NOTHING`,
    [
      names.syncedSchema,
      names.syncedTable,
      syncedTableFullName(names),
      names.sourceSchema,
      names.sourceTable,
      sourceTableFullName(names),
      policy ?? 'TRIGGERED',
      randomUUID(),
    ],
  );
  if (policy !== undefined) {
    await db.query(
      `UPDATE ${r.syncedTables}
          SET scheduling_policy = $3,
              detailed_state = CASE WHEN last_processed_commit_version IS NULL OR failed_at IS NOT NULL
                                    THEN detailed_state ELSE $4 END
        WHERE synced_schema = $1 AND synced_table = $2 AND scheduling_policy <> $3`,
      [names.syncedSchema, names.syncedTable, policy, idleState(policy)],
    );
  }
  const state = await readSyncedTableState(db, names);
  if (!state) throw new Error(`synced table ${syncedTableFullName(names)} vanished while being registered`);
  return state;
}

export async function readSyncedTableState(db: Queryable, names: PipelineNames): Promise<SyncedTableState | null> {
  const { rows } = await db.query<StateRow>(
    `SELECT ${STATE_COLUMNS} FROM ${relations(names).syncedTables} WHERE synced_schema = $1 AND synced_table = $2`,
    [names.syncedSchema, names.syncedTable],
  );
  return rows[0] ? toState(rows[0]) : null;
}

/**
 * Locks the status row for the rest of the transaction: whoever holds it is
 * the only one applying to this synced table, and reads the version the last
 * committed sync left.
 */
export async function lockSyncedTableState(client: pg.ClientBase, names: PipelineNames): Promise<SyncedTableState> {
  const { rows } = await client.query<StateRow>(
    `SELECT ${STATE_COLUMNS} FROM ${relations(names).syncedTables}
      WHERE synced_schema = $1 AND synced_table = $2 FOR UPDATE`,
    [names.syncedSchema, names.syncedTable],
  );
  if (!rows[0]) throw new MissingSyncedTableError(names);
  return toState(rows[0]);
}

export class MissingSyncedTableError extends Error {
  constructor(names: PipelineNames) {
    super(
      `synced table ${syncedTableFullName(names)} is not registered with the local pipeline ` +
        `(no row in ${names.pipelineSchema}.synced_tables); run the dev bootstrap or \`npm run data -- pipeline\` first`,
    );
    this.name = 'MissingSyncedTableError';
  }
}

export async function setDetailedState(
  db: Queryable,
  names: PipelineNames,
  detailedState: string,
  message: string,
): Promise<void> {
  const { rows } = await db.query<{ last_processed_commit_version: string | null }>(
    `UPDATE ${relations(names).syncedTables} SET detailed_state = $3, message = $4
      WHERE synced_schema = $1 AND synced_table = $2
      RETURNING last_processed_commit_version`,
    [names.syncedSchema, names.syncedTable, detailedState, message],
  );
  const version = rows[0]?.last_processed_commit_version;
  await notify(db, {
    event: 'status',
    schema: names.syncedSchema,
    table: names.syncedTable,
    version: version === null || version === undefined ? null : Number(version),
    snapshot: false,
    state: detailedState,
  });
}

export interface AppliedSync {
  version: number;
  fromVersion: number | null;
  snapshot: boolean;
  rowsChanged: number;
  /** Database clock text (clock_timestamp()::text) taken when the sync began. */
  syncStart: string;
  detailedState: string;
  message: string;
  /** Updates finished by this sync, marked COMPLETED in the same transaction. */
  completeUpdateIds: readonly string[];
}

/** Runs inside the apply transaction: position, history, update completion and notification commit with the rows. */
export async function recordSyncApplied(client: pg.ClientBase, names: PipelineNames, sync: AppliedSync): Promise<void> {
  const r = relations(names);
  await client.query(
    `WITH position AS (
       UPDATE ${r.syncedTables}
          SET last_processed_commit_version = $3,
              last_commit_timestamp = (SELECT committed_at FROM ${r.commits} WHERE version = $3),
              last_sync_start = $4, last_sync_end = clock_timestamp(),
              detailed_state = $5, message = $6, failed_at = NULL
        WHERE synced_schema = $1 AND synced_table = $2
        RETURNING last_sync_start, last_sync_end)
     INSERT INTO ${r.history} (synced_schema, synced_table, from_version, to_version, snapshot, rows_changed,
                               sync_start, sync_end)
     SELECT $1, $2, $7, $3, $8, $9, last_sync_start, last_sync_end FROM position`,
    [
      names.syncedSchema,
      names.syncedTable,
      sync.version,
      sync.syncStart,
      sync.detailedState,
      sync.message,
      sync.fromVersion,
      sync.snapshot,
      sync.rowsChanged,
    ],
  );
  await completeUpdates(client, names, sync.completeUpdateIds, sync.message);
  await notify(client, {
    event: 'sync',
    schema: names.syncedSchema,
    table: names.syncedTable,
    version: sync.version,
    snapshot: sync.snapshot,
    state: sync.detailedState,
  });
}

export async function recordFailure(db: Queryable, names: PipelineNames, message: string): Promise<void> {
  const { rows } = await db.query<{ detailed_state: string; last_processed_commit_version: string | null }>(
    `UPDATE ${relations(names).syncedTables}
        SET detailed_state = CASE WHEN last_processed_commit_version IS NULL
                                  THEN 'SYNCED_TABLE_OFFLINE_FAILED' ELSE 'SYNCED_TABLE_ONLINE_PIPELINE_FAILED' END,
            message = $3, failed_at = clock_timestamp()
      WHERE synced_schema = $1 AND synced_table = $2
      RETURNING detailed_state, last_processed_commit_version`,
    [names.syncedSchema, names.syncedTable, message],
  );
  const row = rows[0];
  if (!row) return;
  await notify(db, {
    event: 'status',
    schema: names.syncedSchema,
    table: names.syncedTable,
    version: row.last_processed_commit_version === null ? null : Number(row.last_processed_commit_version),
    snapshot: false,
    state: row.detailed_state,
  });
}

async function notify(db: Queryable, notification: SyncNotification): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [SYNC_NOTIFY_CHANNEL, JSON.stringify(notification)]);
}

/** The synced table was recreated empty: the next pass copies the initial snapshot, as for a new one. */
export async function awaitInitialSnapshotAgain(db: Queryable, names: PipelineNames): Promise<void> {
  await db.query(
    `UPDATE ${relations(names).syncedTables}
        SET last_processed_commit_version = NULL,
            detailed_state = 'SYNCED_TABLE_PROVISIONING',
            message = 'The synced table was recreated; waiting for the initial snapshot.'
      WHERE synced_schema = $1 AND synced_table = $2`,
    [names.syncedSchema, names.syncedTable],
  );
}
