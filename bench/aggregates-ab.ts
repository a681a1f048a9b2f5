/**
 * Aggregates A/B (issue 15): the uncached gateway of this checkout against the
 * one of another checkout (or of this one started with other node flags), and
 * each against the same statements through pg in its own process, for
 * iterating on the uncached aggregate path. Each tree's servers run as
 * bench/aggregates.ts runs them (bench/aggregates-servers.ts, production
 * build, production V8 flags); requests go one at a time, in rounds that
 * alternate the order of the targets, and each figure is the median over
 * rounds of a per-round difference (paired), which holds on a shared machine
 * better than two separate runs do.
 *
 *   npx tsx bench/aggregates-ab.ts --before /tmp/old-tree [--queries zip-all,fare-range-stats]
 *                                  [--rounds 8] [--requests 150] [--warmup 1500] [--rows 1000000]
 *                                  [--before-flags=--single-threaded-gc] [--after-flags='...']
 *
 * Without --before, both sides are this checkout; --before-flags and --after-flags add node flags
 * (space-separated) after production's V8 flags, so one tree can be compared with itself under other flags.
 *
 * The other checkout must be built there (npm ci && npx tsc -p tsconfig.build.json); this one is built
 * here. The data is the aggregates benchmark's (.data/bench-pg, database bench_<rows>): run
 * `npm run bench -- aggregates --rows <rows>` once first. CPU per request comes from /proc, in clock
 * ticks (10 ms): with 150 requests a round, ±67 µs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/dev/embedded-postgres.js';
import { V8_FLAGS } from '../src/server/fast-paths/v8-flags.js';
import { BENCH_QUERIES } from './aggregate-queries.js';
import { processCpuMs } from './support/child-server.js';
import { median, positiveInt } from './support/latest-page-harness.js';
import { buildGateway } from './support/production-build.js';
import { sequentialPoster } from './support/timed-post.js';
import { loadAverage } from './support/report.js';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    queries: { type: 'string', default: BENCH_QUERIES.map((query) => query.name).join(',') },
    rounds: { type: 'string', default: '8' },
    requests: { type: 'string', default: '150' },
    warmup: { type: 'string', default: '1500' },
    rows: { type: 'string', default: '1000000' },
    'before-flags': { type: 'string', default: '' },
    'after-flags': { type: 'string', default: '' },
  },
});
const here = fileURLToPath(new URL('..', import.meta.url));
const flagsOf = (text: string) => text.split(/\s+/).filter(Boolean);
const beforeFlags = flagsOf(values['before-flags']);
const afterFlags = flagsOf(values['after-flags']);
if (!values.before && beforeFlags.join(' ') === afterFlags.join(' '))
  throw new Error(
    '--before: another checkout (built there) is required, unless --before-flags and --after-flags differ',
  );
const rounds = positiveInt('rounds', values.rounds);
const requests = positiveInt('requests', values.requests);
const warmup = positiveInt('warmup', values.warmup, 0);
const rows = positiveInt('rows', values.rows);
const wanted = values.queries.split(',');
const unknown = wanted.filter((name) => !BENCH_QUERIES.some((query) => query.name === name));
if (unknown.length > 0) throw new Error(`--queries: no benchmark query ${unknown.join(', ')}`);

const embedded = await startEmbeddedPostgres({
  dataDir: fileURLToPath(new URL('../.data/bench-pg', import.meta.url)),
  persistent: true,
});
const url = embedded.connectionString.replace(/\/postgres$/, `/bench_${rows}`);
const check = new pg.Client({ connectionString: url });
await check.connect().catch(async (error: Error) => {
  await embedded.stop();
  throw new Error(`no database bench_${rows}: run npm run bench -- aggregates --rows ${rows} first (${error.message})`);
});
await check.end();

interface Servers {
  child: ChildProcess;
  gateway: string;
  baseline: string;
}

async function start(root: string, flags: readonly string[]): Promise<Servers> {
  const child = spawn(
    process.execPath,
    [...V8_FLAGS, ...flags, '--import', 'tsx', `${root}/bench/aggregates-servers.ts`],
    {
      cwd: root,
      env: { ...process.env, BENCH_GATEWAY_BUILD: 'dist', DATABASE_URL: url, ROLLUPS: 'on', BENCH_APPEND_ROWS: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const ready = await new Promise<{ gateway: string; baseline: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${root}: servers exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('READY ')) resolve(JSON.parse(line.slice(6)) as { gateway: string; baseline: string });
    });
  });
  return { child, ...ready };
}

await buildGateway(console.log);
const before = await start(values.before ?? here, beforeFlags);
const after = await start(here, afterFlags);
console.log(
  `before: ${values.before ?? 'this checkout'} ${[...V8_FLAGS, ...beforeFlags].join(' ')}; ` +
    `after: this checkout ${[...V8_FLAGS, ...afterFlags].join(' ')}`,
);
const { post: timedPost, close: closeConnections } = sequentialPoster();

console.log(`load average before: ${loadAverage()}; ${rounds} rounds × ${requests} requests per target`);
console.log(
  "| query | p50 before / after / same SQL (before's process, after's) ms | added over same SQL, before → after | after − before: p50, CPU |",
);
console.log('|---|---|---|---|');
for (const query of BENCH_QUERIES.filter((candidate) => wanted.includes(candidate.name))) {
  const body = JSON.stringify({ query: query.graphql });
  const targets = {
    before: { url: before.gateway, body, pid: before.child.pid! },
    after: { url: after.gateway, body, pid: after.child.pid! },
    pgBefore: { url: `${before.baseline}/same/${query.name}`, body: '{}', pid: before.child.pid! },
    pg: { url: `${after.baseline}/same/${query.name}`, body: '{}', pid: after.child.pid! },
  };
  type Name = keyof typeof targets;
  const names = Object.keys(targets) as Name[];
  for (let index = 0; index < warmup; index += 1) {
    for (const target of Object.values(targets)) await timedPost(target.url, target.body);
  }
  const measured: Record<Name, { p50: number; cpu: number }[]> = { before: [], after: [], pgBefore: [], pg: [] };
  for (let round = 0; round < rounds; round += 1) {
    for (const name of round % 2 ? [...names].reverse() : names) {
      const target = targets[name];
      const cpuBefore = await processCpuMs(target.pid);
      const times: number[] = [];
      for (let index = 0; index < requests; index += 1) times.push(await timedPost(target.url, target.body));
      const cpu = ((await processCpuMs(target.pid)) - cpuBefore) / requests;
      measured[name].push({ p50: median(times), cpu: cpu * 1000 });
    }
  }
  const p50 = (name: Name) => median(measured[name].map((round) => round.p50)).toFixed(3);
  const paired = (a: Name, b: Name, figure: 'p50' | 'cpu') =>
    median(measured[a].map((round, index) => round[figure] - measured[b][index]![figure]));
  const signed = (value: number, digits: number) => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;
  console.log(
    `| ${query.name} | ${p50('before')} / ${p50('after')} / ${p50('pgBefore')}, ${p50('pg')} | ` +
      `${signed(paired('before', 'pgBefore', 'p50'), 3)} → ${signed(paired('after', 'pg', 'p50'), 3)} ms | ` +
      `${signed(paired('after', 'before', 'p50'), 3)} ms, ${signed(paired('after', 'before', 'cpu'), 0)} µs |`,
  );
}
console.log(`load average after: ${loadAverage()}`);
closeConnections();
for (const servers of [before, after]) {
  servers.child.kill('SIGTERM');
  await new Promise((resolve) => servers.child.once('exit', resolve));
}
await embedded.stop();
