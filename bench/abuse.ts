/**
 * A normal client's latency while a hostile one sends the worst documents of
 * issue 14, against the same client with no hostile traffic, in the same run.
 *
 *   npm run bench -- abuse                         # 100k trips, 4 rounds × (10 s quiet + 10 s hostile), 4 hostile connections
 *   npm run bench -- abuse --duration 5 --rounds 2 --hostile 8
 *
 * The gateway (production build) runs in a child process on 127.0.0.1 with its
 * default limits. The normal client sends one dashboard-like query at a time
 * (`trips(first: 20)`), back to back; the hostile client keeps `--hostile`
 * requests in flight, cycling through: 12k `__typename` aliases, 250 aliased
 * introspections, `nodes` with 20k ids, a chain of 2,000 fragments, 5,000
 * fields, a list nested 10,000 deep, and a new valid 50 KB document of 200
 * long aliases each time (the cache attack). Quiet and hostile phases
 * alternate, so machine noise falls on both. Goal: hostile p99 under 2× quiet p99.
 */
import { parseArgs } from 'node:util';
import { worstDocuments } from '../test/support/hostile-requests.js';
import { ensureSyntheticTrips, startBenchDatabase } from './support/bench-database.js';
import { startChildServer } from './support/child-server.js';
import { buildGateway } from './support/production-build.js';
import { fmtInt, fmtMs, formatTable, loadAverage, machineNotes } from './support/report.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '4' },
    hostile: { type: 'string', default: '4' },
    fresh: { type: 'boolean', default: false },
  },
});
const positive = (name: string, raw: string | undefined) => {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name}: expected a positive integer, got ${raw}`);
  return value;
};
const rows = positive('rows', values.rows);
const durationMs = positive('duration', values.duration) * 1000;
const rounds = positive('rounds', values.rounds);
const hostileConnections = positive('hostile', values.hostile);

const NORMAL = JSON.stringify({
  query:
    'query Latest { trips(first: 20, orderBy: [PICKUP_AT_DESC]) { edges { node { tripId pickupAt fareAmount pickupZip } } } }',
});

const log = (line: string) => console.log(line);
log(machineNotes());
const database = await startBenchDatabase({ name: 'abuse', fresh: values.fresh, log });
await ensureSyntheticTrips(database.pool, { rows, seed: 2016, log });
const buildEnv = await buildGateway(log);
const server = await startChildServer({
  script: 'bench/support/gateway-server.ts',
  label: 'gateway',
  env: { ...buildEnv, DATABASE_URL: database.connectionString, LOG_LEVEL: 'warn', ACCESS_LOG: 'false' },
});
const url = server.url;

async function send(body: string): Promise<number> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await response.arrayBuffer();
  return response.status;
}

/** Back-to-back normal requests for `ms`; their latencies. */
async function measureNormal(ms: number): Promise<number[]> {
  const latencies: number[] = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const started = performance.now();
    const status = await send(NORMAL);
    if (status !== 200) throw new Error(`normal query answered ${status}`);
    latencies.push(performance.now() - started);
  }
  return latencies;
}

const worst = worstDocuments();
let distinct = 0;
const hostileStats = { sent: 0, statuses: new Map<number, number>() };
function nextHostile(index: number): string {
  if (index % (worst.length + 1) === worst.length) {
    distinct += 1;
    const aliases = Array.from({ length: 200 }, (_, i) => `d${distinct}_${i}_${'y'.repeat(230)}: __typename`);
    return JSON.stringify({ query: `{ ${aliases.join(' ')} }` });
  }
  return worst[index % (worst.length + 1)]!.body;
}

async function hostileWhile(running: () => boolean): Promise<void> {
  await Promise.all(
    Array.from({ length: hostileConnections }, async (_, lane) => {
      for (let i = lane; running(); i += hostileConnections) {
        const status = await send(nextHostile(i));
        hostileStats.sent += 1;
        hostileStats.statuses.set(status, (hostileStats.statuses.get(status) ?? 0) + 1);
      }
    }),
  );
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

// Warm up both paths (JIT, caches) before measuring.
await measureNormal(2000);
{
  let warming = true;
  const hostile = hostileWhile(() => warming);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  warming = false;
  await hostile;
}

const quiet: number[] = [];
const underAttack: number[] = [];
const loads: string[] = [];
for (let round = 0; round < rounds; round += 1) {
  quiet.push(...(await measureNormal(durationMs)));
  let attacking = true;
  const hostile = hostileWhile(() => attacking);
  underAttack.push(...(await measureNormal(durationMs)));
  attacking = false;
  await hostile;
  loads.push(loadAverage());
}
const summarize = (name: string, latencies: number[]) => {
  const sorted = [...latencies].sort((a, b) => a - b);
  return [
    name,
    fmtInt(sorted.length),
    fmtMs(percentile(sorted, 0.5)),
    fmtMs(percentile(sorted, 0.99)),
    fmtMs(sorted.at(-1)!),
  ];
};
const quietRow = summarize('quiet (baseline)', quiet);
const attackRow = summarize(`hostile client, ${hostileConnections} in flight`, underAttack);
log('');
log(
  `normal query: trips(first: 20) on ${fmtInt(rows)} trips, one at a time; ${rounds} rounds × ${durationMs / 1000} s each phase`,
);
log(formatTable(['phase', 'requests', 'p50 ms', 'p99 ms', 'max ms'], [quietRow, attackRow]));
const q99 = percentile(
  [...quiet].sort((a, b) => a - b),
  0.99,
);
const a99 = percentile(
  [...underAttack].sort((a, b) => a - b),
  0.99,
);
log(`p99 under attack / quiet p99: ${(a99 / q99).toFixed(2)}× (goal < 2×)`);
log(
  `hostile requests sent: ${fmtInt(hostileStats.sent)} (${[...hostileStats.statuses].map(([status, count]) => `${status}: ${fmtInt(count)}`).join(', ')})`,
);
log(`load average after each round: ${loads.join(' | ')}`);
await server.stop();
await database.stop();
