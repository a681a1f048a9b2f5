/**
 * What the capture benchmarks share (bench/capture-writes.ts,
 * bench/capture-trigger-bodies.ts): a fresh embedded Postgres holding the
 * synced table with the capture installed, one writer connection, a switch for
 * the capture's triggers, the sync's batched upsert, and the paired summary of
 * interleaved blocks.
 */
import type pg from 'pg';
import { createDb } from '../../src/db/database.js';
import { ensureSyncedTable } from '../../src/dev/synced-table.js';
import { captureTriggerNames, installCapture } from '../../src/live/capture/install.js';
import { applyNetChanges } from '../../src/dev/pipeline/apply.js';
import {
  columnList,
  pipelineNames,
  relations,
  TRIP_COLUMNS,
  type PipelineNames,
} from '../../src/dev/pipeline/names.js';
import { preparePipeline } from '../../src/dev/pipeline/prepare.js';
import { startBenchDatabase, type BenchDatabase } from './bench-database.js';
import { median } from './latest-page-harness.js';

export const GATEWAY_SCHEMA = 'lakebase_graphql';
export const CAPTURE_FUNCTION = `${GATEWAY_SCHEMA}.capture_trip_changes`;

export interface CaptureBench {
  database: BenchDatabase;
  /** The one connection every timed statement runs on. */
  writer: pg.PoolClient;
  setCapture(on: boolean): Promise<void>;
  stop(): Promise<void>;
}

export async function startCaptureBench(name: string): Promise<CaptureBench> {
  const database = await startBenchDatabase({ name, fresh: true });
  await ensureSyncedTable(database.pool, 'default', 'trips_synced');
  await database.pool.query(`CREATE INDEX IF NOT EXISTS trips_pickup ON "default".trips_synced (tpep_pickup_datetime)`);
  const db = createDb(database.pool, { schema: 'default', table: 'trips_synced', gatewaySchema: GATEWAY_SCHEMA });
  await installCapture(db, {
    schema: 'default',
    table: 'trips_synced',
    gatewaySchema: GATEWAY_SCHEMA,
    notifyChannel: 'lakebase_graphql_sync',
  });
  const triggers = Object.values(captureTriggerNames(GATEWAY_SCHEMA));
  const writer = await database.pool.connect();
  return {
    database,
    writer,
    async setCapture(on) {
      for (const name of triggers) {
        await writer.query(`ALTER TABLE "default".trips_synced ${on ? 'ENABLE ALWAYS' : 'DISABLE'} TRIGGER "${name}"`);
      }
    },
    async stop() {
      writer.release();
      await database.stop();
    },
  };
}

/**
 * Blocks of an incremental sync's writes: each call runs `block` upserts of
 * 1,000 existing rows (walking through ids 1..rows), with new fares and
 * distances for the block, so every row really changes. Resolves to the ms
 * per statement.
 */
export function upsertBlocks(writer: pg.PoolClient, rows: number, block: number): () => Promise<number> {
  let next = 1;
  let fare = 20;
  return async () => {
    fare += 1;
    const started = performance.now();
    for (let i = 0; i < block; i += 1) {
      const first = next;
      next = first + 1000 > rows ? 1 : first + 1000;
      await writer.query(
        `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, fare_amount, pickup_zip, dropoff_zip)
         SELECT g, timestamptz '2024-01-01', timestamptz '2024-01-01 00:20', 1.5 + $3 % 3, $3 + g % 5, 10001, 11430
           FROM generate_series($1::int, $2::int) g
         ON CONFLICT (id) DO UPDATE SET fare_amount = EXCLUDED.fare_amount, trip_distance = EXCLUDED.trip_distance`,
        [first, Math.min(rows, first + 999), fare],
      );
    }
    return (performance.now() - started) / block;
  };
}

/** Rows 1..rows, written with the capture off. */
export async function fillTable(writer: pg.PoolClient, rows: number): Promise<void> {
  await writer.query(
    `INSERT INTO "default".trips_synced
     SELECT g, timestamptz '2024-01-01' + g * interval '1 minute', timestamptz '2024-01-01 00:20' + g * interval '1 minute',
            1.5, 10, 10001, 11430
       FROM generate_series(1, $1::int) g`,
    [rows],
  );
  await writer.query('VACUUM ANALYZE "default".trips_synced');
}

/**
 * The local sync pipeline's own incremental apply (`applyNetChanges`, the
 * statement a TRIGGERED or CONTINUOUS sync runs): each call writes `block`
 * source versions, each rewriting 1,000 existing trips with new fares and
 * distances (untimed, like the upstream commit it stands for), and times the
 * apply of each version into the synced table. Resolves to the ms per apply.
 * The source holds the synced table's rows (copied untimed by the first call).
 */
export function pipelineApplyBlocks(
  writer: pg.PoolClient,
  rows: number,
  block: number,
): { prepare(): Promise<void>; run(): Promise<number>; tidy(): Promise<void> } {
  const names: PipelineNames = pipelineNames({ sourceSchema: 'bench_source', pipelineSchema: 'bench_pipeline' });
  const r = relations(names);
  let next = 1;
  let fare = 20;
  const headVersion = async (): Promise<number> => {
    const { rows: head } = await writer.query<{ version: string }>(`SELECT max(version) AS version FROM ${r.commits}`);
    return Number(head[0]?.version ?? 0);
  };
  const commitVersion = async (): Promise<number> => {
    fare += 1;
    const first = next;
    next = first + 1000 > rows ? 1 : first + 1000;
    await writer.query(
      `UPDATE ${r.source} SET fare_amount = $3::numeric + id % 5, trip_distance = 1.5 + $3::numeric % 3
        WHERE id BETWEEN $1 AND $2`,
      [first, Math.min(rows, first + 999), fare],
    );
    return headVersion();
  };
  return {
    async prepare() {
      await preparePipeline(writer, names, 'TRIGGERED');
      await writer.query(`SELECT set_config('lakebase_dev.capture_changes', 'off', false)`);
      await writer.query(
        `INSERT INTO ${r.source} (${columnList(TRIP_COLUMNS)}) SELECT ${columnList(TRIP_COLUMNS)} FROM ${r.synced}`,
      );
      await writer.query(`SELECT set_config('lakebase_dev.capture_changes', 'on', false)`);
      await writer.query(`VACUUM ANALYZE ${r.source}`);
    },
    async run() {
      let total = 0;
      for (let i = 0; i < block; i += 1) {
        const version = await commitVersion();
        const started = performance.now();
        const changed = await applyNetChanges(writer, names, version - 1, version);
        total += performance.now() - started;
        if (changed !== 1000) throw new Error(`pipeline apply of version ${version} wrote ${changed} rows, not 1000`);
      }
      return total / block;
    },
    /** The applied versions' change rows and the source's dead rows, dropped untimed like tidy() below. */
    async tidy() {
      await writer.query(`DELETE FROM ${r.changes}`);
      await writer.query(`VACUUM ${r.changes}, ${r.source}`);
    },
  };
}

/** Empties the change log (both modes grow the table's dead rows alike); untimed. */
export async function tidy(writer: pg.PoolClient): Promise<void> {
  await writer.query(`DELETE FROM ${GATEWAY_SCHEMA}.trip_change_log`);
  await writer.query(`VACUUM ${GATEWAY_SCHEMA}.trip_change_log`);
  await writer.query('VACUUM "default".trips_synced');
}

export interface PairedSummary {
  /** Median of the rounds' (measured / baseline - 1). */
  slower: number;
  /** Median of the rounds' (measured - baseline). */
  added: number;
  /** Interquartile range of the rounds' ratios. */
  q1: number;
  q3: number;
  /** Median of the measured series and of the baseline. */
  measured: number;
  baseline: number;
}

const quartile = (xs: readonly number[], q: 0.25 | 0.75) =>
  [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * q)]!;

/**
 * Rounds ran both series back to back, so each round's ratio is paired: the
 * machine's drift moves both alike. The median of those ratios is the figure.
 */
export function pairedSummary(measured: readonly number[], baseline: readonly number[]): PairedSummary {
  const ratios = measured.map((value, round) => value / baseline[round]! - 1);
  return {
    slower: median(ratios),
    added: median(measured.map((value, round) => value - baseline[round]!)),
    q1: quartile(ratios, 0.25),
    q3: quartile(ratios, 0.75),
    measured: median(measured),
    baseline: median(baseline),
  };
}

/** A difference with its sign: +1.234 or -0.567. */
export const signed = (ms: number): string => `${ms >= 0 ? '+' : ''}${ms.toFixed(3)}`;
