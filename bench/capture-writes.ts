/**
 * The writer's cost of the live change capture (issue 12): the sync
 * pipeline's write throughput with the capture's triggers on and off, in the
 * same run, alternating so load changes hit both alike.
 *
 *   npx tsx bench/capture-writes.ts [--rows 300000] [--rounds 5]
 *
 * Each round, per mode: COPY of `rows` new trips (one statement, as a bulk
 * sync), then batched upserts of 1,000 rows per INSERT ... ON CONFLICT DO
 * UPDATE over the same ids with new fares (an incremental sync rewriting
 * rows). The table is emptied (DELETE, not measured) between runs.
 */
import { parseArgs } from 'node:util';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pgCopyStreams from 'pg-copy-streams';
import { createDb } from '../src/db/database.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { captureTriggerNames, installCapture } from '../src/live/capture/install.js';
import { startBenchDatabase } from './support/bench-database.js';
import { readFile } from 'node:fs/promises';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '300000' }, rounds: { type: 'string', default: '5' } },
});
const rows = Number(values.rows);
const rounds = Number(values.rounds);
const loadavg = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');

const database = await startBenchDatabase({ name: 'capture-writes', fresh: true });
const pool = database.pool;
await ensureSyncedTable(pool, 'default', 'trips_synced');
await pool.query(`CREATE INDEX IF NOT EXISTS trips_pickup ON "default".trips_synced (tpep_pickup_datetime)`);
const db = createDb(pool, { schema: 'default', table: 'trips_synced', gatewaySchema: 'lakebase_graphql' });
await installCapture(db, {
  schema: 'default',
  table: 'trips_synced',
  gatewaySchema: 'lakebase_graphql',
  notifyChannel: 'lakebase_graphql_sync',
});
const triggers = Object.values(captureTriggerNames('lakebase_graphql'));

async function setCapture(on: boolean): Promise<void> {
  for (const name of triggers) {
    await pool.query(`ALTER TABLE "default".trips_synced ${on ? 'ENABLE ALWAYS' : 'DISABLE'} TRIGGER "${name}"`);
  }
}

function copyText(first: number, count: number, fare: number): Buffer[] {
  const chunks: Buffer[] = [];
  let lines: string[] = [];
  for (let id = first; id < first + count; id += 1) {
    const minute = id % 50_000;
    lines.push(
      `${id}\t2024-01-01 00:00:00+00\t2024-01-01 00:${String(minute % 60).padStart(2, '0')}:00+00\t${(id % 90) / 10}\t${fare + (id % 7)}\t10001\t11430`,
    );
    if (lines.length === 10_000) {
      chunks.push(Buffer.from(lines.join('\n') + '\n'));
      lines = [];
    }
  }
  if (lines.length > 0) chunks.push(Buffer.from(lines.join('\n') + '\n'));
  return chunks;
}

async function copyRun(): Promise<number> {
  const client = await pool.connect();
  try {
    const chunks = copyText(1, rows, 10);
    const started = performance.now();
    const copy = client.query(
      pgCopyStreams.from(
        `COPY "default".trips_synced (id, tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, fare_amount, pickup_zip, dropoff_zip) FROM STDIN`,
      ),
    );
    await pipeline(Readable.from(chunks), copy);
    return rows / ((performance.now() - started) / 1000);
  } finally {
    client.release();
  }
}

async function upsertRun(): Promise<number> {
  const started = performance.now();
  for (let first = 1; first <= rows; first += 1000) {
    await pool.query(
      `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, fare_amount, pickup_zip, dropoff_zip)
       SELECT g, timestamptz '2024-01-01', timestamptz '2024-01-01 00:20', 1.5, 20 + g % 5, 10001, 11430
         FROM generate_series($1::int, $2::int) g
       ON CONFLICT (id) DO UPDATE SET fare_amount = EXCLUDED.fare_amount, trip_distance = EXCLUDED.trip_distance`,
      [first, Math.min(rows, first + 999)],
    );
  }
  return rows / ((performance.now() - started) / 1000);
}

async function reset(): Promise<void> {
  await setCapture(false);
  await pool.query('DELETE FROM "default".trips_synced');
  await pool.query('DELETE FROM lakebase_graphql.trip_change_log');
  await pool.query('VACUUM "default".trips_synced');
  await pool.query('VACUUM lakebase_graphql.trip_change_log');
}

const results: Record<'off' | 'on', { copy: number[]; upsert: number[] }> = {
  off: { copy: [], upsert: [] },
  on: { copy: [], upsert: [] },
};
console.log(`capture-writes: ${rows} rows per run, ${rounds} rounds; load average ${await loadavg()}`);
for (let round = 1; round <= rounds; round += 1) {
  for (const mode of round % 2 === 1 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
    await reset();
    await setCapture(mode === 'on');
    results[mode].copy.push(await copyRun());
    results[mode].upsert.push(await upsertRun());
    console.log(
      `  round ${round} capture ${mode}: COPY ${Math.round(results[mode].copy.at(-1)!)} rows/s, ` +
        `upsert ${Math.round(results[mode].upsert.at(-1)!)} rows/s`,
    );
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// Each round runs both modes back to back, so a round's on/off ratio is paired: load that
// comes and goes on this shared machine moves both runs of a round alike. The median of the
// paired ratios is the figure; the ratio of the medians is shown beside it.
for (const kind of ['copy', 'upsert'] as const) {
  const off = median(results.off[kind]);
  const on = median(results.on[kind]);
  const paired = results.on[kind].map((value, round) => 1 - value / results.off[kind][round]!);
  const slower = median(paired) * 100;
  console.log(
    `${kind.padEnd(6)} capture off ${Math.round(off)} rows/s, on ${Math.round(on)} rows/s: ` +
      `${slower.toFixed(1)}% slower, median of the rounds (${paired.map((p) => `${(p * 100).toFixed(1)}%`).join(', ')}); ` +
      `ratio of the medians ${(((off - on) / off) * 100).toFixed(1)}% (goal <= 10%: ${slower <= 10 ? 'met' : 'NOT met'})`,
  );
}
console.log(`load average after: ${await loadavg()}`);
await database.stop();
