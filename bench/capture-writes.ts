/**
 * The writer's cost of the live change capture (issue 12): the sync
 * pipeline's write throughput with the capture's triggers on and off, in the
 * same run.
 *
 *   npx tsx bench/capture-writes.ts [--rows 100000] [--rounds 60] [--block 10] [--copy-rows 20000]
 *
 * The table holds `rows` trips. Each round times, for each mode in an order
 * drawn at random:
 * - a block of `block` batched upserts of 1,000 existing rows each
 *   (INSERT ... ON CONFLICT DO UPDATE with new fares and distances, so every
 *   row really changes, as an incremental sync rewrites rows);
 * - a block of `block` applies of the local sync pipeline's own incremental
 *   statement (`applyNetChanges`: the net changes of one source version,
 *   1,000 existing trips rewritten, read from the change feed and upserted);
 * - one COPY of `copy-rows` new trips (a bulk sync), removed again untimed.
 *
 * Why short interleaved blocks and not one long run per mode: this machine's
 * speed drifts by 2-3x within minutes. A long run per mode measured the drift
 * as much as the capture (5-round runs of the same tree gave anything from
 * -3% to +13%). Blocks of a few tens of milliseconds, paired within a round,
 * see the same machine; the median of many paired ratios is the figure.
 */
import { parseArgs } from 'node:util';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pgCopyStreams from 'pg-copy-streams';
import {
  fillTable,
  pairedSummary,
  pipelineApplyBlocks,
  signed,
  startCaptureBench,
  tidy,
  upsertBlocks,
} from './support/capture-bench.js';
import { positiveInt } from './support/latest-page-harness.js';
import { loadAverage } from './support/report.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '60' },
    block: { type: 'string', default: '10' },
    'copy-rows': { type: 'string', default: '20000' },
  },
});
const rows = positiveInt('rows', values.rows, 1000);
const rounds = positiveInt('rounds', values.rounds);
const block = positiveInt('block', values.block);
const copyRows = positiveInt('copy-rows', values['copy-rows']);

const bench = await startCaptureBench('capture-writes');
const { writer, setCapture } = bench;

function copyText(first: number, count: number): Buffer[] {
  const chunks: Buffer[] = [];
  let lines: string[] = [];
  for (let id = first; id < first + count; id += 1) {
    const minute = id % 50_000;
    lines.push(
      `${id}\t2024-01-01 00:00:00+00\t2024-01-01 00:${String(minute % 60).padStart(2, '0')}:00+00\t${(id % 90) / 10}\t${10 + (id % 7)}\t10001\t11430`,
    );
    if (lines.length === 10_000) {
      chunks.push(Buffer.from(lines.join('\n') + '\n'));
      lines = [];
    }
  }
  if (lines.length > 0) chunks.push(Buffer.from(lines.join('\n') + '\n'));
  return chunks;
}

async function copy(first: number, count: number): Promise<number> {
  const chunks = copyText(first, count);
  const started = performance.now();
  const stream = writer.query(
    pgCopyStreams.from(
      `COPY "default".trips_synced (id, tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, fare_amount, pickup_zip, dropoff_zip) FROM STDIN`,
    ),
  );
  await pipeline(Readable.from(chunks), stream);
  return performance.now() - started;
}

const upsertBlock = upsertBlocks(writer, rows, block);
const pipelineApply = pipelineApplyBlocks(writer, rows, block);

/** ms per 1,000 rows of one COPY of new ids; the rows are deleted again with the capture off, untimed. */
async function copyBlock(on: boolean): Promise<number> {
  const first = rows + 1;
  const ms = await copy(first, copyRows);
  if (on) await setCapture(false);
  await writer.query(`DELETE FROM "default".trips_synced WHERE id >= $1`, [first]);
  return (ms / copyRows) * 1000;
}

const modes = ['off', 'on'] as const;
type Mode = (typeof modes)[number];
const kinds = ['upsert', 'pipeline', 'copy'] as const;
const times: Record<(typeof kinds)[number], Record<Mode, number[]>> = {
  upsert: { off: [], on: [] },
  pipeline: { off: [], on: [] },
  copy: { off: [], on: [] },
};

console.log(
  `capture-writes: ${rows} rows, ${rounds} rounds of ${block} upserts and one ${copyRows}-row COPY per mode; ` +
    `load average ${loadAverage()}`,
);
await setCapture(false);
await fillTable(writer, rows);
await pipelineApply.prepare();
for (let round = 1; round <= rounds; round += 1) {
  const order = Math.random() < 0.5 ? modes : ([...modes].reverse() as Mode[]);
  for (const mode of order) {
    await setCapture(mode === 'on');
    await upsertBlock(); // untimed: the first statements after switching the triggers plan again
    times.upsert[mode].push(await upsertBlock());
  }
  for (const mode of order) {
    await setCapture(mode === 'on');
    await pipelineApply.run(); // untimed, as above
    times.pipeline[mode].push(await pipelineApply.run());
  }
  for (const mode of order) {
    await setCapture(mode === 'on');
    times.copy[mode].push(await copyBlock(mode === 'on'));
  }
  // The change log and the table's dead rows grow the same for both modes; kept small, untimed.
  if (round % 10 === 0) {
    await setCapture(false);
    await tidy(writer);
    await pipelineApply.tidy();
  }
}

for (const kind of kinds) {
  const { off, on } = times[kind];
  const summary = pairedSummary(on, off);
  const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(
    `${kind.padEnd(8)} ms per 1,000 rows: capture off ${summary.baseline.toFixed(3)}, on ${summary.measured.toFixed(3)} ` +
      `(${signed(summary.added)} ms paired): ${percent(summary.slower)} slower, median of ${on.length} paired rounds ` +
      `(interquartile ${percent(summary.q1)} to ${percent(summary.q3)}) (goal <= 10%: ${summary.slower <= 0.1 ? 'met' : 'NOT met'})`,
  );
}
console.log(`load average after: ${loadAverage()}`);
await bench.stop();
