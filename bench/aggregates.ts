/**
 * Aggregates benchmark (issue 3): p50/p99 latency and requests/s of the five
 * BI queries through the gateway's HTTP port, against the same statements
 * replayed through pg behind a minimal node:http endpoint (the gateway's
 * overhead), and against the plain GROUP BY on the synced table (what the
 * rollup and indexes buy).
 *
 *   npm run bench:aggregates -- --rows 1000000 [--duration 10] [--connections 1] [--indexes] [--rollups off]
 *
 * Database: DATABASE_URL, else an embedded cluster kept in .data/bench-pg with
 * one database per row count (loaded once, reused by later runs).
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { createRecommendedIndexes } from '../src/aggregates/indexes.js';
import { qualified } from '../src/db/sql-identifiers.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/dev/embedded-postgres.js';
import { loadSyntheticTrips } from '../src/dev/load/synthetic-trips.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { V8_FLAGS } from '../src/server/fast-paths/v8-flags.js';
import { BENCH_QUERIES } from './aggregate-queries.js';
import { processCpuMs } from './support/child-server.js';
import { buildGateway } from './support/production-build.js';
import { sequentialPoster } from './support/timed-post.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '1' },
    indexes: { type: 'boolean', default: false },
    rollups: { type: 'string', default: 'on' },
    'skip-raw': { type: 'boolean', default: false },
    /** New trips appended after the rollup build, to time the rollup catching up (0 = skip). */
    append: { type: 'string', default: '1000' },
    samples: { type: 'string', default: '200' },
  },
});
const rows = Number(values.rows.replace(/_/g, ''));
const duration = Number(values.duration);
const connections = Number(values.connections);
const samples = Number(values.samples);
const SCHEMA = 'default';
const TABLE = 'trips_synced';
const log = (line: string) => console.log(line);

let embedded: EmbeddedDatabase | undefined;
let url = process.env.DATABASE_URL;
if (!url) {
  embedded = await startEmbeddedPostgres({
    dataDir: fileURLToPath(new URL('../.data/bench-pg', import.meta.url)),
    persistent: true,
  });
  const name = `bench_${rows}`;
  const admin = new pg.Client({ connectionString: embedded.connectionString });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  url = embedded.connectionString.replace(/\/postgres$/, `/${name}`);
}

const pool = new pg.Pool({ connectionString: url, max: 2 });
await ensureSyncedTable(pool, SCHEMA, TABLE);
const trips = qualified(SCHEMA, TABLE);
const zones = qualified(process.env.GATEWAY_SCHEMA ?? 'lakebase_graphql', 'zip_zones');
const present = Number((await pool.query(`SELECT count(*) AS n FROM ${trips}`)).rows[0].n);
if (present !== rows) {
  log(`loading ${rows.toLocaleString('en-US')} synthetic trips (table had ${present.toLocaleString('en-US')})`);
  const load = await loadSyntheticTrips(pool, { schema: SCHEMA, table: TABLE, rows, truncate: true });
  log(`loaded in ${(load.elapsedMs / 1000).toFixed(1)} s`);
  await pool.query(`VACUUM (ANALYZE) ${trips}`);
}
if (values.indexes) await createRecommendedIndexes(pool, SCHEMA, TABLE, log);
const indexes = (
  await pool.query<{ name: string }>(
    `SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = $1::regclass`,
    [trips],
  )
).rows.map((row) => row.name);
const statStatements = await pool
  .query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements')
  .then(() => pool.query('SELECT pg_stat_statements_reset()'))
  .then(
    () => true,
    () => false,
  );

const child = spawn(
  process.execPath,
  [...V8_FLAGS, '--import', 'tsx', fileURLToPath(new URL('./aggregates-servers.ts', import.meta.url))],
  {
    env: {
      ...process.env,
      ...(await buildGateway(log)),
      DATABASE_URL: url,
      ROLLUPS: values.rollups,
      BENCH_APPEND_ROWS: values.append,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const ready = await new Promise<Ready>((resolve, reject) => {
  child.once('exit', (code) => reject(new Error(`servers exited with ${code}`)));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('READY ')) resolve(JSON.parse(line.slice(6)) as Ready);
    else log(`servers: ${line}`);
  });
});

interface Ready {
  gateway: string;
  /** The same gateway with the response cache on. */
  cached: string;
  baseline: string;
  rollupBuild: unknown;
  append: { afterId: string } | null;
  sources: { raw: number; rollup: number };
  statements: Record<string, string[]>;
  answers: Record<string, unknown>;
}

interface Figures {
  p50: number;
  p99: number;
  rps: number;
  errors: number;
}

async function measure(url: string, body: string): Promise<Figures> {
  const options = { url, method: 'POST' as const, body, headers: { 'content-type': 'application/json' }, connections };
  await autocannon({ ...options, duration: Math.min(2, duration) });
  const result = await autocannon({ ...options, duration });
  return {
    p50: result.latency.p50,
    p99: result.latency.p99,
    rps: result.requests.average,
    errors: result.errors + result.non2xx,
  };
}

const { post: timedPost, close: closeConnections } = sequentialPoster();

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/**
 * Sub-millisecond latencies (autocannon reports whole milliseconds), one
 * request at a time, alternating the targets so that both see the same
 * background load on a shared machine.
 */
async function interleavedLatencies(targets: { url: string; body: string }[]): Promise<{ p50: number; p99: number }[]> {
  const times = targets.map(() => [] as number[]);
  for (let i = 0; i < samples; i += 1) {
    for (const [index, target] of targets.entries()) times[index]!.push(await timedPost(target.url, target.body));
  }
  return times.map((list) => {
    const sorted = [...list].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  });
}

/**
 * Equal answers, numbers to 1e-9 relative: the cached gateway is another process, whose first answer may come
 * from the synced table while the other's came from the rollup (sums added in another order).
 */
function sameAnswer(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number')
    return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => sameAnswer(item, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((key) => sameAnswer((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
    );
  }
  return a === b;
}

/** Totals of an answer, to check the gateway agrees with the hand-written SQL. */
function totalCount(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + totalCount(item), 0);
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if ('count' in record) return Number(record.count);
    return Object.values(record).reduce((sum: number, item) => sum + totalCount(item), 0);
  }
  return 0;
}

log(
  `\nmachine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `node ${process.version}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
log(
  `postgres: ${(await pool.query('SHOW server_version')).rows[0].server_version}, rows: ${rows.toLocaleString('en-US')}`,
);
log(`indexes on ${trips}: ${indexes.join(', ')}`);
log(`rollup build: ${JSON.stringify(ready.rollupBuild)}`);
log(`rollup after a sync appended trips: ${JSON.stringify(ready.append)}`);
log(`sources of the benchmark queries: ${JSON.stringify(ready.sources)}`);
log(`autocannon: ${connections} connection(s), ${duration} s per target after a warm-up\n`);

/**
 * CPU time the servers' process spends per request, one target at a time
 * (Linux: /proc; elsewhere null). Steadier than latency on a shared machine,
 * and it says where the gateway's overhead goes: computing, not waiting.
 */
async function serversCpuMs(): Promise<number | null> {
  const ms = child.pid === undefined ? Number.NaN : await processCpuMs(child.pid);
  return Number.isNaN(ms) ? null : ms;
}

/** Up to 500 requests, or as many as fit in --duration seconds (raw-table queries take seconds each). */
async function cpuPerRequest(url: string, body: string): Promise<number | null> {
  const before = await serversCpuMs();
  const deadline = performance.now() + duration * 1000;
  let requests = 0;
  while (requests < 500 && (requests === 0 || performance.now() < deadline)) {
    await timedPost(url, body);
    requests += 1;
  }
  const after = await serversCpuMs();
  return before === null || after === null ? null : ((after - before) / requests) * 1000;
}

const results: Record<
  string,
  {
    gateway: Figures;
    same: Figures;
    raw?: Figures;
    agrees: boolean;
    cached: Figures;
    cachedAgrees: boolean;
    precise: { p50: number; p99: number }[];
    cpu: (number | null)[];
  }
> = {};
for (const query of BENCH_QUERIES) {
  const raw = await pool.query(query.rawSql.replace('$TRIPS', trips).replace('$ZONES', zones), query.rawParams ?? []);
  const agrees = totalCount(ready.answers[query.name]) === totalCount(raw.rows);
  const gateway = await measure(ready.gateway, JSON.stringify({ query: query.graphql }));
  const same = await measure(`${ready.baseline}/same/${query.name}`, '{}');
  const rawFigures = values['skip-raw'] ? undefined : await measure(`${ready.baseline}/raw/${query.name}`, '{}');
  const cached = await measure(ready.cached, JSON.stringify({ query: query.graphql }));
  const cachedAnswer = await fetch(ready.cached, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: query.graphql }),
  }).then(async (response) => ((await response.json()) as { data?: unknown }).data);
  const cachedAgrees = sameAnswer(cachedAnswer, ready.answers[query.name]);
  const precise = await interleavedLatencies([
    { url: ready.gateway, body: JSON.stringify({ query: query.graphql }) },
    { url: `${ready.baseline}/same/${query.name}`, body: '{}' },
    { url: ready.cached, body: JSON.stringify({ query: query.graphql }) },
  ]);
  const cpu = [
    await cpuPerRequest(ready.gateway, JSON.stringify({ query: query.graphql })),
    await cpuPerRequest(`${ready.baseline}/same/${query.name}`, '{}'),
  ];
  results[query.name] = { gateway, same, raw: rawFigures, agrees, cached, cachedAgrees, precise, cpu };
  log(`${query.name}: ${query.title}`);
  log(
    `  statements: ${ready.statements[query.name]!.map((s) => s.replace(/\s+/g, ' ').slice(0, 160)).join('\n              ')}`,
  );
  log(`  totals agree with hand-written SQL: ${agrees}`);
}

const ms = (value: number) => value.toFixed(1);
log(
  '\n| query | gateway p50 / p99 ms | gateway req/s | same SQL via pg p50 / p99 ms | req/s | p50 ratio | plain GROUP BY p50 / p99 ms | req/s |',
);
log('|---|---|---|---|---|---|---|---|');
for (const [name, { gateway, same, raw }] of Object.entries(results)) {
  const ratio = same.p50 > 0 ? gateway.p50 / same.p50 : NaN;
  log(
    `| ${name} | ${ms(gateway.p50)} / ${ms(gateway.p99)} | ${gateway.rps.toFixed(0)} | ${ms(same.p50)} / ${ms(same.p99)} | ` +
      `${same.rps.toFixed(0)} | ${ratio.toFixed(2)} | ${raw ? `${ms(raw.p50)} / ${ms(raw.p99)} | ${raw.rps.toFixed(1)}` : '- | -'} |`,
  );
  if (gateway.errors || same.errors || raw?.errors)
    log(`  errors: ${gateway.errors} / ${same.errors} / ${raw?.errors}`);
}
// The floor: a request that touches no data, through the gateway (`{ __typename }`) and through the bare endpoint.
const floorQuery = JSON.stringify({ query: '{ __typename }' });
const floor = {
  precise: await interleavedLatencies([
    { url: ready.gateway, body: floorQuery },
    { url: `${ready.baseline}/floor/-`, body: '{}' },
  ]),
  cpu: [await cpuPerRequest(ready.gateway, floorQuery), await cpuPerRequest(`${ready.baseline}/floor/-`, '{}')],
};
const micros = (value: number | null | undefined) => (value == null ? '-' : `${value.toFixed(0)} µs`);
log(`\nResponse cache on (same answers as uncached: the check below), autocannon ${connections} connection(s):`);
log(
  '| query | cached p50 / p99 ms | cached req/s | same SQL via pg req/s | cached ÷ pg req/s | cached p50 (interleaved) vs same SQL p50 | answer equal |',
);
log('|---|---|---|---|---|---|---|');
for (const [name, { cached, same, precise, cachedAgrees }] of Object.entries(results)) {
  const [, samePrecise, cachedPrecise] = precise as [unknown, { p50: number }, { p50: number }];
  log(
    `| ${name} | ${ms(cached.p50)} / ${ms(cached.p99)} | ${cached.rps.toFixed(0)} | ${same.rps.toFixed(0)} | ` +
      `${(cached.rps / same.rps).toFixed(2)} | ${cachedPrecise.p50.toFixed(3)} vs ${samePrecise.p50.toFixed(3)} ms ` +
      `(${cachedPrecise.p50 < samePrecise.p50 ? 'faster' : 'NOT faster'}) | ${cachedAgrees} |`,
  );
}
log(`\nSequential, interleaved (${samples} samples each): gateway vs the same statements through pg`);
log(
  '| query | gateway p50 / p99 ms | same SQL via pg p50 / p99 ms | p50 overhead | CPU per request: gateway / same SQL |',
);
log('|---|---|---|---|---|');
for (const [name, { precise, cpu }] of [
  ...Object.entries(results),
  ['floor: { __typename } vs bare HTTP', floor] as const,
]) {
  const [gateway, same] = precise as [{ p50: number; p99: number }, { p50: number; p99: number }];
  const overhead = (gateway.p50 / same.p50 - 1) * 100;
  const added = gateway.p50 - same.p50;
  log(
    `| ${name} | ${gateway.p50.toFixed(2)} / ${gateway.p99.toFixed(2)} | ${same.p50.toFixed(2)} / ${same.p99.toFixed(2)} | ` +
      `${overhead >= 0 ? '+' : ''}${overhead.toFixed(1)}% (${added.toFixed(2)} ms; goal ≤ +0.30 ms: ${added <= 0.3 ? 'met' : 'NOT met'}) | ${micros(cpu[0])} / ${micros(cpu[1])} |`,
  );
}
if (statStatements) {
  // What the database spent its time on during the run: the evidence for the indexes and grains in docs/aggregates.md.
  const { rows: top } = await pool.query<{ calls: string; mean: number; total: number; rows: string; query: string }>(
    `SELECT calls, mean_exec_time AS mean, total_exec_time AS total, rows, query FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
      ORDER BY total_exec_time DESC LIMIT 12`,
  );
  log('\npg_stat_statements, top statements by total time during the run:');
  log('| calls | mean ms | total s | statement |');
  log('|---|---|---|---|');
  for (const row of top) {
    const text = row.query.replace(/\s+/g, ' ').replace(/\|/g, '\\|').slice(0, 140);
    log(`| ${row.calls} | ${row.mean.toFixed(2)} | ${(row.total / 1000).toFixed(1)} | \`${text}\` |`);
  }
}
log(
  `\nload average after: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

closeConnections();
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));
// The table goes back to exactly --rows trips, so the next run reuses it (its rollup then needs a full build).
if (ready.append) await pool.query(`DELETE FROM ${trips} WHERE id > $1`, [ready.append.afterId]);
await pool.end();
await embedded?.stop();
