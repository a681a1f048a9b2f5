/**
 * Initialises the emulation for the dev bootstrap: creates what is missing,
 * fills an empty source table, and runs the initial snapshot so the synced
 * table equals the source.
 */
import type pg from 'pg';
import { CAPTURE_SETTING } from './change-feed-schema.js';
import {
  columnList,
  literal,
  pipelineNames,
  TRIP_COLUMNS,
  relations,
  type PipelineNames,
  type SchedulingPolicy,
} from './names.js';
import { preparePipeline } from './prepare.js';
import { runQueuedUpdatesIfIdle, type RunnerSettings } from './runner.js';
import { readSyncedTableState } from './state.js';
import { inTransaction } from './transaction.js';
import { enqueueUpdate } from './updates.js';

/**
 * Fills the empty source table. It gets a client inside a transaction with
 * change capture off (a bulk load needs no per-row change records; the
 * snapshot that follows copies everything) and must write through it.
 */
export type SourceLoader = (client: pg.PoolClient, source: { schema: string; table: string }) => Promise<void>;

export interface SeedOptions {
  names?: Partial<PipelineNames>;
  policy?: SchedulingPolicy;
  /** Used only when both the source and the synced table are empty. */
  loadSource?: SourceLoader;
  settings?: Partial<RunnerSettings>;
  log?: (line: string) => void;
}

export interface SeedResult {
  names: PipelineNames;
  /** Where the rows of a previously empty source came from; null when it already had rows (or stayed empty). */
  sourceFilledFrom: 'synced-table' | 'loader' | null;
  sourceRows: number;
  /** "ran": the snapshot ran here; "queued": a running worker will run it; "not-needed": already in sync. */
  snapshot: 'ran' | 'queued' | 'not-needed';
  /** Source version the synced table reflects when the seed returns. */
  syncedVersion: number | null;
}

export async function seedLocalPipeline(pool: pg.Pool, options: SeedOptions = {}): Promise<SeedResult> {
  const names = pipelineNames(options.names);
  const log = options.log ?? (() => undefined);
  const before = await preparePipeline(pool, names, options.policy);
  const filled = await fillEmptySource(pool, names, options.loadSource);
  const r = relations(names);
  const { rows } = await pool.query<{ count: string }>(`SELECT count(*) AS count FROM ${r.source}`);
  const sourceRows = Number(rows[0]?.count ?? 0);
  if (filled) log(`source ${r.source} filled from the ${filled} (${sourceRows} rows)`);

  let snapshot: SeedResult['snapshot'] = 'not-needed';
  if (filled !== null || before.lastProcessedVersion === null) {
    await enqueueUpdate(pool, names, { fullRefresh: true, cause: 'INITIALIZATION' });
    const ran = await runQueuedUpdatesIfIdle(pool, names, { settings: options.settings, log });
    snapshot = ran ? 'ran' : 'queued';
  }
  const after = await readSyncedTableState(pool, names);
  return {
    names,
    sourceFilledFrom: filled,
    sourceRows,
    snapshot,
    syncedVersion: after?.lastProcessedVersion ?? null,
  };
}

async function fillEmptySource(
  pool: pg.Pool,
  names: PipelineNames,
  loadSource: SourceLoader | undefined,
): Promise<'synced-table' | 'loader' | null> {
  const r = relations(names);
  return inTransaction(pool, async (client) => {
    // Two bootstraps at once must not both fill the source.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('lakebase_dev_seed'), hashtext(${literal(r.source)}))`);
    const { rows } = await client.query<{ source_empty: boolean; synced_empty: boolean }>(
      `SELECT NOT EXISTS (SELECT FROM ${r.source}) AS source_empty, NOT EXISTS (SELECT FROM ${r.synced}) AS synced_empty`,
    );
    if (!rows[0]?.source_empty) return null;
    await client.query(`SELECT set_config(${literal(CAPTURE_SETTING)}, 'off', true)`);
    if (!rows[0].synced_empty) {
      await client.query(
        `INSERT INTO ${r.source} (${columnList(TRIP_COLUMNS)}) SELECT ${columnList(TRIP_COLUMNS)} FROM ${r.synced}`,
      );
      return 'synced-table';
    }
    if (!loadSource) return null;
    await loadSource(client, { schema: names.sourceSchema, table: names.sourceTable });
    return 'loader';
  });
}
