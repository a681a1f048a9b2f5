/**
 * The database side of a benchmark: an embedded Postgres whose data directory
 * survives between runs (.data/bench-<name>, git-ignored), holding N synthetic
 * trips. Loading 1M rows and building indexes takes a while on two cores, so a
 * table already holding the same rows (same count and seed, recorded in the
 * table's comment) is reused as it is.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { qualified } from '../../src/db/sql-identifiers.js';
import { startEmbeddedPostgres } from '../../src/dev/embedded-postgres.js';
import { loadSyntheticTrips } from '../../src/dev/load/synthetic-trips.js';
import { ensureSyncedTable } from '../../src/dev/synced-table.js';

export interface BenchDatabase {
  connectionString: string;
  /** A small pool for setup and for reading statistics; the servers under test have their own. */
  pool: pg.Pool;
  dataDir: string;
  stop(): Promise<void>;
}

export interface BenchDatabaseOptions {
  /** Data lives in .data/bench-<name>; benchmarks that may run at the same time use different names. */
  name: string;
  /** A throwaway cluster in a temp dir (removed on stop) instead of the kept one. */
  fresh?: boolean;
  log?: (line: string) => void;
}

export const BENCH_SCHEMA = 'default';
export const BENCH_TABLE = 'trips_synced';

export async function startBenchDatabase(options: BenchDatabaseOptions): Promise<BenchDatabase> {
  const tempDir = options.fresh ? await mkdtemp(path.join(os.tmpdir(), `lakebase-graphql-bench-${options.name}-`)) : '';
  const dataDir = options.fresh ? path.join(tempDir, 'pg') : path.resolve('.data', `bench-${options.name}`);
  const embedded = await startEmbeddedPostgres({ dataDir, persistent: !options.fresh });
  const pool = new pg.Pool({ connectionString: embedded.connectionString, max: 2 });
  // The cluster is started with pg_stat_statements preloaded; benchmarks read it
  // to show what the database itself spent and which statements were sent.
  await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  return {
    connectionString: embedded.connectionString,
    pool,
    dataDir,
    async stop() {
      // A connection the server closes while the cluster shuts down is expected here, not a crash.
      pool.on('error', () => undefined);
      await pool.end();
      await embedded.stop();
      if (options.fresh) await rm(tempDir, { recursive: true, force: true });
    },
  };
}

export interface DatasetOptions {
  rows: number;
  seed: number;
  log?: (line: string) => void;
}

export interface Dataset {
  rows: number;
  seed: number;
  /** False when the table already held this dataset. */
  loaded: boolean;
}

/** Makes the synced table hold exactly `rows` synthetic trips from `seed`, loading only when it does not already. */
export async function ensureSyntheticTrips(pool: pg.Pool, options: DatasetOptions): Promise<Dataset> {
  const log = options.log ?? (() => {});
  const table = qualified(BENCH_SCHEMA, BENCH_TABLE);
  const marker = `lakebase-graphql bench dataset: synthetic rows=${options.rows} seed=${options.seed}`;
  await ensureSyncedTable(pool, BENCH_SCHEMA, BENCH_TABLE);
  const { rows } = await pool.query<{ comment: string | null; count: string }>(
    `SELECT obj_description($1::regclass, 'pg_class') AS comment, (SELECT count(*) FROM ${table}) AS count`,
    [table],
  );
  if (rows[0]?.comment === marker && Number(rows[0].count) === options.rows) {
    log(`reusing ${options.rows.toLocaleString('en-US')} synthetic trips (seed ${options.seed}) in ${table}`);
    return { rows: options.rows, seed: options.seed, loaded: false };
  }
  log(`loading ${options.rows.toLocaleString('en-US')} synthetic trips (seed ${options.seed}) into ${table}…`);
  // Clear the marker first: an interrupted load must not be mistaken for a finished one.
  await pool.query(`COMMENT ON TABLE ${table} IS NULL`);
  const result = await loadSyntheticTrips(pool, {
    schema: BENCH_SCHEMA,
    table: BENCH_TABLE,
    rows: options.rows,
    seed: options.seed,
    truncate: true,
  });
  log(
    `  loaded in ${(result.elapsedMs / 1000).toFixed(1)} s (${Math.round(result.rowsPerSecond).toLocaleString('en-US')} rows/s)`,
  );
  await pool.query(`VACUUM ANALYZE ${table}`);
  await pool.query(`COMMENT ON TABLE ${table} IS '${marker}'`);
  return { rows: options.rows, seed: options.seed, loaded: true };
}
