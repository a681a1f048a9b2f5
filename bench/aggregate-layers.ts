/**
 * Where an uncached aggregate's added time goes, layer by layer (issue 15), in
 * one process: the same tripStats request (the aggregates benchmark's
 * fare-range-stats) answered four ways, in alternating batches, CPU time per
 * request from process.cpuUsage():
 *
 *   pg       its statement through pg.Pool + JSON.stringify (the baseline)
 *   layer    the aggregate data layer called directly (loadTripStats: filter
 *            parse, rollup freshness, memoized statement, Kysely, shaping)
 *   gateway  the GraphQL request through gateway.fetch (yoga, envelop, plugins)
 *   floor    `{ __typename }` through gateway.fetch
 *
 *   npx tsx bench/aggregate-layers.ts [--batches 10] [--requests 300] [--warmup 1500] [--rows 1000000]
 *
 * Needs the aggregates benchmark's database (.data/bench-pg, bench_<rows>): run
 * `npm run bench -- aggregates --rows <rows>` once first. The gateway runs from
 * its production build (dist/), as the other benchmarks run it.
 */
import { parseArgs } from 'node:util';
import type { CompiledQuery } from 'kysely';
import pg from 'pg';
import type { MeasureStat } from '../src/aggregates/stats.js';
import { BENCH_QUERIES } from './aggregate-queries.js';
import { median, positiveInt } from './support/latest-page-harness.js';
import { startInProcessGateway } from './support/in-process-gateway.js';
import { loadAverage } from './support/report.js';

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '10' },
    requests: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '1500' },
    rows: { type: 'string', default: '1000000' },
  },
});
const batches = positiveInt('batches', values.batches);
const requests = positiveInt('requests', values.requests);
const warmup = positiveInt('warmup', values.warmup, 0);
const rows = positiveInt('rows', values.rows);

const query = BENCH_QUERIES.find((candidate) => candidate.name === 'fare-range-stats')!;
// The same request for the data layer: the query's filter and the aggregates its selection asks for.
const filter = { fareAmount: { gte: 10, lt: 20 } };
const selected = new Set<MeasureStat>(['fare_sum', 'fare_avg', 'fare_min', 'fare_max', 'distance_avg', 'duration_avg']);

let recording: CompiledQuery[] | null = null;
const { app, url, modules, close } = await startInProcessGateway(rows, (statement) => recording?.push(statement));
const { loadTripStats } = modules;
const pool = new pg.Pool({ connectionString: url, max: 4 });
try {
  const post = (body: string) => async () => {
    const response = await app.gateway.fetch('http://bench/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    return response.text();
  };
  const layer = async () => JSON.stringify(await loadTripStats(app.services, filter, selected));
  const gateway = post(JSON.stringify({ query: query.graphql }));

  // Each path sends one statement per request, and the same one: checked, so the layers compare like with like.
  const record = async (run: () => Promise<string>) => {
    await run();
    recording = [];
    await run();
    const sent = recording;
    recording = null;
    if (sent.length !== 1) throw new Error(`expected one statement per request, got ${sent.length}`);
    return sent[0]!;
  };
  const statement = await record(layer);
  if ((await record(gateway)).sql !== statement.sql)
    throw new Error('the gateway and the data layer sent different SQL');

  const targets: [string, () => Promise<string>][] = [
    ['pg', async () => JSON.stringify((await pool.query(statement.sql, [...statement.parameters])).rows)],
    ['layer', layer],
    ['gateway', gateway],
    ['floor', post(JSON.stringify({ query: '{ __typename }' }))],
  ];
  const cpu = new Map(targets.map(([name]) => [name, [] as number[]]));
  for (let index = 0; index < warmup; index += 1) for (const [, run] of targets) await run();
  console.log(`load average before: ${loadAverage()}; ${batches} batches × ${requests} requests per path`);
  for (let batch = 0; batch < batches; batch += 1) {
    for (const [name, run] of batch % 2 ? [...targets].reverse() : targets) {
      const started = process.cpuUsage();
      for (let index = 0; index < requests; index += 1) await run();
      const used = process.cpuUsage(started);
      cpu.get(name)!.push((used.user + used.system) / requests);
    }
  }
  const paired = (a: string, b: string) => median(cpu.get(a)!.map((us, index) => us - cpu.get(b)![index]!));
  console.log('| path | CPU per request (median) |\n|---|---|');
  for (const [name] of targets) console.log(`| ${name} | ${median(cpu.get(name)!).toFixed(0)} µs |`);
  console.log(
    `paired: layer − pg ${paired('layer', 'pg').toFixed(0)} µs, gateway − layer ${paired('gateway', 'layer').toFixed(0)} µs, ` +
      `floor ${median(cpu.get('floor')!).toFixed(0)} µs`,
  );
  console.log(`load average after: ${loadAverage()}`);
} finally {
  await pool.end();
  await close();
}
