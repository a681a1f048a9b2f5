/** Queries on the pipeline update queue (lakebase_dev_pipeline.updates). */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { isoTimestamp, type Queryable } from './sql.js';
import { PIPELINE_UPDATE_CHANNEL, relations, type PipelineNames } from './names.js';

export type UpdateCause = 'API_CALL' | 'INITIALIZATION';
export type UpdateState = 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED';

export interface PipelineUpdate {
  updateId: string;
  fullRefresh: boolean;
  cause: UpdateCause;
  state: UpdateState;
  attempts: number;
  requestedAt: string;
  startedAt: string | null;
  endedAt: string | null;
  latestVersionCurrentlyProcessing: number | null;
  syncedRowCount: number | null;
  totalRowCount: number | null;
  message: string | null;
}

interface UpdateRow {
  update_id: string;
  full_refresh: boolean;
  cause: UpdateCause;
  state: UpdateState;
  attempts: number;
  requested_at: string;
  started_at: string | null;
  ended_at: string | null;
  latest_version_currently_processing: string | null;
  synced_row_count: string | null;
  total_row_count: string | null;
  message: string | null;
}

const UPDATE_COLUMNS = `u.update_id, u.full_refresh, u.cause, u.state, u.attempts,
  ${isoTimestamp('u.requested_at')} AS requested_at, ${isoTimestamp('u.started_at')} AS started_at,
  ${isoTimestamp('u.ended_at')} AS ended_at, p.latest_version_currently_processing, p.synced_row_count,
  p.total_row_count, u.message`;

const updatesWithProgress = (names: PipelineNames): string => {
  const r = relations(names);
  return `${r.updates} u LEFT JOIN ${r.updateProgress} p ON p.update_id = u.update_id`;
};

const optionalNumber = (value: string | null): number | null => (value === null ? null : Number(value));

const toUpdate = (row: UpdateRow): PipelineUpdate => ({
  updateId: row.update_id,
  fullRefresh: row.full_refresh,
  cause: row.cause,
  state: row.state,
  attempts: row.attempts,
  requestedAt: row.requested_at,
  startedAt: row.started_at,
  endedAt: row.ended_at,
  latestVersionCurrentlyProcessing: optionalNumber(row.latest_version_currently_processing),
  syncedRowCount: optionalNumber(row.synced_row_count),
  totalRowCount: optionalNumber(row.total_row_count),
  message: row.message,
});

/** Queues an update and wakes a running worker; returns the update id (a UUID, as Databricks update ids are). */
export async function enqueueUpdate(
  db: Queryable,
  names: PipelineNames,
  options: { fullRefresh: boolean; cause?: UpdateCause },
): Promise<string> {
  const updateId = randomUUID();
  await db.query(
    `INSERT INTO ${relations(names).updates} (update_id, synced_schema, synced_table, full_refresh, cause)
     VALUES ($1, $2, $3, $4, $5)`,
    [updateId, names.syncedSchema, names.syncedTable, options.fullRefresh, options.cause ?? 'API_CALL'],
  );
  await db.query('SELECT pg_notify($1, $2)', [
    PIPELINE_UPDATE_CHANNEL,
    JSON.stringify({ schema: names.syncedSchema, table: names.syncedTable, updateId }),
  ]);
  return updateId;
}

/** Marks every queued update of the table RUNNING and returns them; the caller must hold the runner lock. */
export async function claimQueuedUpdates(db: Queryable, names: PipelineNames): Promise<PipelineUpdate[]> {
  const r = relations(names);
  const { rows: claimed } = await db.query<{ update_id: string }>(
    `UPDATE ${r.updates} SET state = 'RUNNING', attempts = attempts + 1, started_at = clock_timestamp()
      WHERE synced_schema = $1 AND synced_table = $2 AND state = 'QUEUED'
      RETURNING update_id`,
    [names.syncedSchema, names.syncedTable],
  );
  if (claimed.length === 0) return [];
  const ids = claimed.map((row) => row.update_id);
  // A retried update starts its progress afresh.
  await db.query(`DELETE FROM ${r.updateProgress} WHERE update_id = ANY($1::uuid[])`, [ids]);
  const { rows } = await db.query<UpdateRow>(
    `SELECT ${UPDATE_COLUMNS} FROM ${updatesWithProgress(names)} WHERE u.update_id = ANY($1::uuid[])
      ORDER BY u.requested_at`,
    [ids],
  );
  return rows.map(toUpdate);
}

/**
 * Puts updates left RUNNING by a runner that died back in the queue, or fails
 * them after too many attempts. Only the holder of the runner lock may call it.
 */
export async function requeueInterruptedUpdates(
  db: Queryable,
  names: PipelineNames,
  maxAttempts: number,
): Promise<void> {
  await db.query(
    `UPDATE ${relations(names).updates}
        SET state = CASE WHEN attempts >= $3 THEN 'FAILED' ELSE 'QUEUED' END,
            ended_at = CASE WHEN attempts >= $3 THEN clock_timestamp() END,
            message = CASE WHEN attempts >= $3 THEN coalesce(message, 'interrupted') || ' (gave up after ' || attempts || ' attempts)'
                           ELSE message END
      WHERE synced_schema = $1 AND synced_table = $2 AND state = 'RUNNING'`,
    [names.syncedSchema, names.syncedTable, maxAttempts],
  );
}

export async function reportUpdateProgress(
  db: Queryable,
  names: PipelineNames,
  updateIds: readonly string[],
  progress: { version: number | null; synced: number; total: number },
): Promise<void> {
  if (updateIds.length === 0) return;
  await db.query(
    `INSERT INTO ${relations(names).updateProgress}
       (update_id, latest_version_currently_processing, synced_row_count, total_row_count)
     SELECT unnest($1::uuid[]), $2, $3, $4
     ON CONFLICT (update_id) DO UPDATE SET
       latest_version_currently_processing = EXCLUDED.latest_version_currently_processing,
       synced_row_count = EXCLUDED.synced_row_count, total_row_count = EXCLUDED.total_row_count`,
    [updateIds, progress.version, progress.synced, progress.total],
  );
}

/** Runs inside the transaction that applies the update's last rows. */
export async function completeUpdates(
  client: pg.ClientBase,
  names: PipelineNames,
  updateIds: readonly string[],
  message: string,
): Promise<void> {
  if (updateIds.length === 0) return;
  await client.query(
    `UPDATE ${relations(names).updates} SET state = 'COMPLETED', ended_at = clock_timestamp(), message = $2
      WHERE update_id = ANY($1::uuid[]) AND state = 'RUNNING'`,
    [updateIds, message],
  );
}

/** Records the error on each update; each goes back to the queue unless it has used up its attempts. */
export async function failUpdates(
  db: Queryable,
  names: PipelineNames,
  updateIds: readonly string[],
  message: string,
  maxAttempts: number,
): Promise<void> {
  if (updateIds.length === 0) return;
  await db.query(
    `UPDATE ${relations(names).updates}
        SET state = CASE WHEN attempts >= $3 THEN 'FAILED' ELSE 'QUEUED' END,
            ended_at = CASE WHEN attempts >= $3 THEN clock_timestamp() END,
            message = $2
      WHERE update_id = ANY($1::uuid[]) AND state = 'RUNNING'`,
    [updateIds, message, maxAttempts],
  );
}

export async function readUpdate(
  db: Queryable,
  names: PipelineNames,
  updateId: string,
): Promise<PipelineUpdate | null> {
  const { rows } = await db.query<UpdateRow>(
    `SELECT ${UPDATE_COLUMNS} FROM ${updatesWithProgress(names)} WHERE u.update_id = $1`,
    [updateId],
  );
  return rows[0] ? toUpdate(rows[0]) : null;
}

/** The update currently running for the table, if any (the one whose progress the status shows). */
export async function readActiveUpdate(db: Queryable, names: PipelineNames): Promise<PipelineUpdate | null> {
  const { rows } = await db.query<UpdateRow>(
    `SELECT ${UPDATE_COLUMNS} FROM ${updatesWithProgress(names)}
      WHERE u.synced_schema = $1 AND u.synced_table = $2 AND u.state IN ('QUEUED', 'RUNNING')
      ORDER BY u.state = 'RUNNING' DESC, u.requested_at LIMIT 1`,
    [names.syncedSchema, names.syncedTable],
  );
  return rows[0] ? toUpdate(rows[0]) : null;
}
