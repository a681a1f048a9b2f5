/**
 * COPY load rate of synthetic trips into a fresh embedded Postgres.
 *
 *   npx tsx bench/load-rate.ts                      # 1M rows
 *   npx tsx bench/load-rate.ts --rows 10000000      # 10M rows
 *   npx tsx bench/load-rate.ts --no-durable         # fsync off, like the test cluster
 *
 * By default the cluster runs with fsync on, like the development database in
 * .data/pg. The target table is the synced table exactly as Lakebase holds it
 * (logged, bigint primary key). Prints the generator's own rate too, so a slow
 * figure can be attributed to the generator or to the database.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/dev/embedded-postgres.js';
import { loadSyntheticTrips } from '../src/dev/load/synthetic-trips.js';
import { tripCopyTextChunks } from '../src/dev/sample/trip-generator.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1' },
    'batch-rows': { type: 'string' },
    'no-durable': { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows);
if (!Number.isSafeInteger(rows) || rows <= 0)
  throw new Error(`--rows: expected a positive integer, got ${values.rows}`);
const seed = Number(values.seed);
const batchRows = values['batch-rows'] === undefined ? undefined : Number(values['batch-rows']);
const durable = !values['no-durable'];

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function generatorRate(sampleRows: number): number {
  const started = performance.now();
  let bytes = 0;
  for (const chunk of tripCopyTextChunks({ rows: sampleRows, seed })) bytes += chunk.length;
  const rate = (sampleRows / (performance.now() - started)) * 1000;
  console.log(`generator alone: ${fmt(rate)} rows/s (${(bytes / sampleRows).toFixed(1)} bytes/row of COPY text)`);
  return rate;
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'lakebase-graphql-bench-'));
const db = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), persistent: durable });
const pool = new pg.Pool({ connectionString: db.connectionString, max: 2 });
try {
  console.log(
    `node ${process.version}, ${os.cpus().length} cores, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `fresh embedded Postgres, fsync ${durable ? 'on' : 'off'}; table "default".trips_synced (logged, id bigint primary key)`,
  );
  generatorRate(Math.min(rows, 1_000_000));
  await ensureSyncedTable(pool, 'default', 'trips_synced');
  const result = await loadSyntheticTrips(pool, {
    schema: 'default',
    table: 'trips_synced',
    rows,
    seed,
    truncate: true,
    batchRows,
    onProgress: (done) => {
      if (batchRows !== undefined) console.log(`  ${fmt(done)} rows`);
    },
  });
  const { rows: check } = await pool.query<{ count: string; size: string }>(
    `SELECT count(*) AS count, pg_size_pretty(pg_total_relation_size('"default".trips_synced')) AS size
       FROM "default".trips_synced`,
  );
  console.log(
    `loaded ${fmt(result.rows)} rows in ${(result.elapsedMs / 1000).toFixed(1)} s: ${fmt(result.rowsPerSecond)} rows/s` +
      ` (table now ${check[0]?.count} rows, ${check[0]?.size} with index)`,
  );
  console.log(
    `load average after: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (the machine is shared)`,
  );
} finally {
  await pool.end();
  await db.stop();
  await rm(dir, { recursive: true, force: true });
}
