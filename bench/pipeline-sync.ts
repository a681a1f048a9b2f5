/**
 * Figures for the local sync-pipeline emulation:
 *   npx tsx bench/pipeline-sync.ts [--rows 200000] [--rate 1000] [--seconds 10]
 * Uses DATABASE_URL when set (a scratch database: it creates and drops its own
 * schemas), else a throwaway embedded Postgres.
 *  1. snapshot: full copy of N rows into the synced table;
 *  2. triggered: one update applying 100 commits of N/100 inserted rows each;
 *  3. continuous: lag from source commit to synced-table commit while the
 *     stream inserts at --rate rows/s (batches every 100 ms), worker woken by NOTIFY.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/dev/embedded-postgres.js';
import { LocalSyncSource } from '../src/dev/pipeline/local-sync-source.js';
import { pipelineNames, relations } from '../src/dev/pipeline/names.js';
import { randomTrips } from '../src/dev/pipeline/random-trips.js';
import { seedLocalPipeline } from '../src/dev/pipeline/seed.js';
import { insertNewTrips } from '../src/dev/pipeline/source-writes.js';
import { SyncWorker } from '../src/dev/pipeline/worker.js';

const { values } = parseArgs({
  options: { rows: { type: 'string' }, rate: { type: 'string' }, seconds: { type: 'string' } },
});
const ROWS = Number(values.rows ?? 200_000);
const RATE = Number(values.rate ?? 1000);
const SECONDS = Number(values.seconds ?? 10);

const names = pipelineNames({
  sourceSchema: 'bench_source',
  syncedSchema: 'bench_synced',
  pipelineSchema: 'bench_pipeline',
});
const r = relations(names);

async function main(): Promise<void> {
  let dir: string | null = null;
  let stop: (() => Promise<void>) | null = null;
  let url = process.env.DATABASE_URL;
  if (!url) {
    dir = await mkdtemp(path.join(os.tmpdir(), 'pipeline-bench-'));
    const embedded = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), persistent: false });
    url = embedded.connectionString;
    stop = embedded.stop;
  }
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  pool.on('error', () => undefined);
  try {
    await pool.query(`DROP SCHEMA IF EXISTS bench_source, bench_synced, bench_pipeline CASCADE`);
    console.log(`postgres: ${(await pool.query('SHOW server_version')).rows[0].server_version}, rows ${ROWS}`);

    // 1. Snapshot (the seed's initial snapshot of a bulk-loaded source).
    let started = performance.now();
    await seedLocalPipeline(pool, {
      names,
      policy: 'TRIGGERED',
      loadSource: async (client) => {
        for (let first = 1; first <= ROWS; first += 50_000) {
          const count = Math.min(50_000, ROWS - first + 1);
          await client.query(
            `INSERT INTO ${r.source} SELECT g, now() - g * interval '1 second', now(), g % 17, g % 53, 10001, 10002
               FROM generate_series($1::bigint, $2::bigint) g`,
            [first, first + count - 1],
          );
        }
      },
    });
    const seedMs = performance.now() - started;
    const source = new LocalSyncSource(pool, { names });
    started = performance.now();
    await source.startUpdate({ fullRefresh: true });
    await source.settled();
    const snapshotMs = performance.now() - started;
    console.log(
      `snapshot: ${ROWS} rows in ${snapshotMs.toFixed(0)} ms (${((ROWS / snapshotMs) * 1000).toFixed(0)} rows/s); ` +
        `seed incl. bulk load + initial snapshot ${seedMs.toFixed(0)} ms`,
    );

    // 2. Triggered update over 100 commits.
    const perCommit = Math.max(1, Math.floor(ROWS / 100));
    for (let i = 0; i < 100; i++) await insertNewTrips(pool, names, perCommit, (first, n) => randomTrips(first, n));
    started = performance.now();
    await source.startUpdate({ fullRefresh: false });
    await source.settled();
    const triggeredMs = performance.now() - started;
    console.log(
      `triggered: 100 versions, ${perCommit * 100} inserted rows applied in ${triggeredMs.toFixed(0)} ms ` +
        `(${(((perCommit * 100) / triggeredMs) * 1000).toFixed(0)} rows/s)`,
    );

    // 3. Continuous lag under a steady stream.
    const workerPool = new pg.Pool({ connectionString: url, max: 3 });
    workerPool.on('error', () => undefined);
    const worker = new SyncWorker(workerPool, { names, policy: 'CONTINUOUS', intervalMs: 15_000 });
    await worker.start();
    const { rows: mark } = await pool.query<{ v: string }>(`SELECT max(version) AS v FROM ${r.commits}`);
    const fromVersion = Number(mark[0]?.v);
    const streamStart = performance.now();
    let inserted = 0;
    for (let tick = 1; performance.now() - streamStart < SECONDS * 1000; tick++) {
      const due = Math.floor((RATE * (performance.now() - streamStart)) / 1000) - inserted;
      if (due > 0) inserted += (await insertNewTrips(pool, names, due, (f, n) => randomTrips(f, n))).count;
      const wait = streamStart + tick * 100 - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const { rows: head } = await pool.query<{ v: string }>(`SELECT max(version) AS v FROM ${r.commits}`);
    const until = Number(head[0]?.v);
    while (true) {
      const { rows } = await pool.query<{ v: string }>(
        `SELECT last_processed_commit_version AS v FROM ${r.syncedTables} WHERE synced_schema = $1`,
        [names.syncedSchema],
      );
      if (Number(rows[0]?.v) >= until) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await worker.stop();
    await workerPool.end();
    // Lag per version: from its source commit to the end of the sync that applied it.
    const { rows: lag } = await pool.query<{ p50: number; p99: number; max: number; versions: string }>(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99,
              max(ms) AS max, count(*) AS versions
         FROM (SELECT (extract(epoch FROM h.sync_end - c.committed_at) * 1000)::float8 AS ms
                 FROM ${r.commits} c
                 JOIN ${r.history} h ON h.synced_schema = $1 AND c.version > h.from_version AND c.version <= h.to_version
                WHERE c.version > $2 AND c.version <= $3) l`,
      [names.syncedSchema, fromVersion, until],
    );
    const l = lag[0];
    console.log(
      `continuous: ${inserted} rows in ${l?.versions} commits over ${SECONDS} s at ${RATE} rows/s; ` +
        `commit-to-synced lag p50 ${l?.p50.toFixed(1)} ms, p99 ${l?.p99.toFixed(1)} ms, max ${l?.max.toFixed(1)} ms`,
    );
    await pool.query(`DROP SCHEMA IF EXISTS bench_source, bench_synced, bench_pipeline CASCADE`);
  } finally {
    await pool.end();
    await stop?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

await main();
