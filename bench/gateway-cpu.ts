/**
 * Gateway-only CPU per request (issue 15), for iterating on the uncached path:
 * the gateway (response cache off) and the baseline (bench/support/baseline-server.ts:
 * the same recorded SQL through pg, rows JSON.stringify'd) each answer a fixed
 * number of requests, in alternating batches, and each server process' CPU time
 * (/proc) is divided by the requests it answered. The difference is the work the
 * gateway does that the baseline does not.
 *
 *   npx tsx bench/gateway-cpu.ts                           # 200k trips, 8 in flight, 9 batches × 2000 requests
 *   npx tsx bench/gateway-cpu.ts --requests 3000 --batches 15 --concurrency 4
 *   npx tsx bench/gateway-cpu.ts --before /tmp/old-tree    # also a gateway from another checkout (built there;
 *                                                          # several, comma-separated, for a bisect)
 *   npx tsx bench/gateway-cpu.ts --profile                 # CPU profiles of the servers in .data/bench-profiles
 *   npx tsx bench/gateway-cpu.ts --filtered                # the trips benchmark's "filtered" page instead of "latest"
 *   npx tsx bench/gateway-cpu.ts --floor                   # `{ __typename }` against a bare node:http answer (no SQL):
 *                                                          # the fixed cost of a GraphQL request
 *
 * Unlike `npm run bench -- trips` there is no throughput figure: the load is a
 * fixed number of requests with a few in flight, and only CPU time is compared.
 * The servers run in child processes from the production build (dist/, as the
 * trips benchmark runs them); the load generator here is plain node:http.
 */
import { mkdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/env.js';
import { startBenchDatabase } from './support/bench-database.js';
import { startChildServer, type ChildServer } from './support/child-server.js';
import { buildGateway } from './support/production-build.js';
import { loadAverage, machineNotes } from './support/report.js';
import {
  FILTERED_QUERY,
  LATEST_QUERY,
  median,
  positiveInt,
  prepareTripsTable,
  recordLatestStatements,
  uncachedGatewayEnv,
} from './support/latest-page-harness.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    requests: { type: 'string', default: '2000' },
    batches: { type: 'string', default: '9' },
    concurrency: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '3000' },
    before: { type: 'string' },
    profile: { type: 'boolean', default: false },
    filtered: { type: 'boolean', default: false },
    floor: { type: 'boolean', default: false },
  },
});

const rows = positiveInt('rows', values.rows);
const requests = positiveInt('requests', values.requests);
const batches = positiveInt('batches', values.batches);
const concurrency = positiveInt('concurrency', values.concurrency);
const warmupRequests = positiveInt('warmup', values.warmup);

interface Target {
  name: string;
  server: ChildServer;
  request: { path: string; method: 'GET' | 'POST'; body?: string };
  port: number;
  cpuUs: number[];
  /** User time only: system time (mostly loopback TCP) is the noisiest part on a shared machine. */
  userUs: number[];
}

/** User and system CPU time of a process so far, in ms (Linux /proc, clock ticks of 10 ms). */
async function cpuTimes(pid: number): Promise<{ user: number; system: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

function send(target: Target): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: target.request.path,
        method: target.request.method,
        agent,
        headers: target.request.body
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(target.request.body) }
          : {},
      },
      (response) => {
        if (response.statusCode !== 200) reject(new Error(`${target.name} answered ${response.statusCode}`));
        response.on('data', () => {});
        response.on('end', resolve);
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(target.request.body);
  });
}

async function load(target: Target, total: number): Promise<void> {
  let next = 0;
  const client = async () => {
    while (next < total) {
      next += 1;
      await send(target);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
}

const children: ChildServer[] = [];
const database = await startBenchDatabase({ name: 'gateway-cpu' });
try {
  console.log(machineNotes());
  const log = (line: string) => console.log(line);
  await prepareTripsTable(database.pool, rows, log);
  const env = {
    ...(await buildGateway(log)),
    ...uncachedGatewayEnv(database.connectionString),
  };
  const profileDir = path.resolve(
    '.data',
    'bench-profiles',
    `gateway-cpu-${new Date().toISOString().replace(/[:.]/g, '-')}`,
  );
  if (values.profile) await mkdir(profileDir, { recursive: true });

  const config = loadConfig(env);
  const statements = await recordLatestStatements(database.pool, config, values.filtered);

  const targets: Target[] = [];
  const start = async (
    name: string,
    script: string,
    request: Target['request'],
    extraEnv = {},
    nodeArgs: string[] = [],
  ) => {
    const server = await startChildServer({ script, env: { ...env, ...extraEnv }, label: name, nodeArgs });
    children.push(server);
    targets.push({ name, server, request, port: Number(new URL(server.url).port), cpuUs: [], userUs: [] });
  };
  const profileArgs = values.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
  const graphql = {
    path: '/graphql',
    method: 'POST',
    body: JSON.stringify({
      query: values.floor ? '{ __typename }' : values.filtered ? FILTERED_QUERY : LATEST_QUERY,
    }),
  } as const;
  await start('gateway', 'bench/support/gateway-server.ts', graphql, {}, profileArgs);
  // --before a,b,…: several other trees, named before, before2, … (a bisect in one run).
  for (const [index, dir] of (values.before?.split(',') ?? []).entries()) {
    const name = index === 0 ? 'before' : `before${index + 1}`;
    await start(name, path.join(path.resolve(dir), 'bench/support/gateway-server.ts'), graphql);
  }
  await start(
    'baseline',
    'bench/support/baseline-server.ts',
    { path: '/latest', method: 'GET' },
    // The floor's baseline runs no statement: it answers `{"data":[]}` from node:http.
    { BASELINE_ROUTES: JSON.stringify({ '/latest': values.floor ? [] : statements }) },
    profileArgs,
  );

  for (const target of targets) await load(target, warmupRequests);
  for (let batch = 0; batch < batches; batch += 1) {
    // Alternate the order, so a busy spell on the shared machine falls on each alike.
    const order = batch % 2 ? [...targets].reverse() : targets;
    for (const target of order) {
      const before = await cpuTimes(target.server.pid);
      await load(target, requests);
      const after = await cpuTimes(target.server.pid);
      target.cpuUs.push(((after.user + after.system - before.user - before.system) * 1000) / requests);
      target.userUs.push(((after.user - before.user) * 1000) / requests);
    }
  }

  const baseline = targets.find((target) => target.name === 'baseline')!;
  console.log(
    `\n${batches} batches × ${requests} requests, ${concurrency} in flight; CPU µs per request (server process)`,
  );
  const gateway = targets.find((target) => target.name === 'gateway')!;
  for (const [label, of] of [
    ['user + system', (target: Target) => target.cpuUs],
    ['user only', (target: Target) => target.userUs],
  ] as const) {
    console.log(`${label}:`);
    for (const target of targets) {
      const differences = of(target).map((us, index) => us - of(baseline)[index]!);
      console.log(
        `  ${target.name.padEnd(9)} median ${median(of(target)).toFixed(0).padStart(5)} µs` +
          (target === baseline ? '' : `   − baseline: median ${median(differences).toFixed(0).padStart(5)} µs`) +
          `   batches: ${of(target)
            .map((us) => us.toFixed(0))
            .join(' ')}`,
      );
    }
    for (const other of targets.filter((target) => target.name.startsWith('before'))) {
      const differences = of(gateway).map((us, index) => us - of(other)[index]!);
      console.log(`  gateway − ${other.name}, batch by batch: median ${median(differences).toFixed(0)} µs`);
    }
  }
  console.log(`Load average now ${loadAverage()}.`);
  if (values.profile) {
    const pids = targets.map((target) => `${target.name} ${target.server.pid}`).join(', ');
    console.log(`CPU profiles (main thread: the larger file of a pid): ${profileDir} (${pids})`);
  }
} finally {
  agent.destroy();
  for (const child of children.reverse()) await child.stop();
  await database.stop();
}
