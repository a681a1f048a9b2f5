/**
 * Trips through the gateway versus the same SQL through plain `pg` (issue 2).
 *
 *   npm run bench -- trips                          # 1M trips, 10 s per case, 20 connections
 *   npm run bench -- trips --duration 20 --connections 50 --cases latest,page500
 *   npm run bench -- trips --profile                # also writes a CPU profile of the gateway
 *
 * Both servers run in child processes on 127.0.0.1 with the same pool size; the
 * load generator (autocannon) runs here. The baseline replays the statements
 * recorded from the gateway's own data layer, and pg_stat_statements confirms
 * that both sent the same statement (queryid) the same number of times per
 * request, and that they answered the same rows.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/env.js';
import { createDb } from '../src/db/database.js';
import { qualified } from '../src/db/sql-identifiers.js';
import { loadTripConnection, type TripConnectionArgs } from '../src/trips/connection.js';
import {
  BENCH_SCHEMA,
  BENCH_TABLE,
  ensureSyntheticTrips,
  startBenchDatabase,
  type BenchDatabase,
} from './support/bench-database.js';
import { startChildServer, type ChildServer } from './support/child-server.js';
import { measure, warmUp, type LoadRequest, type LoadResult } from './support/load.js';
import { fmtInt, fmtMs, formatTable, loadAverage, machineNotes } from './support/report.js';
import { recordStatements, type RecordedStatement } from './support/sql-recorder.js';
import { readStatementStats, resetStatementStats, type StatementStats } from './support/statement-stats.js';
import { ensureTripIndexes } from './support/trip-indexes.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '2016' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '20' },
    pool: { type: 'string', default: '10' },
    cases: { type: 'string', default: 'latest,filtered,page500' },
    'walk-pages': { type: 'string', default: '499' },
    fresh: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
});

function positiveInt(name: string, raw: string | undefined, min = 1): number {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min)
    throw new Error(`--${name}: expected an integer ≥ ${min}, got ${raw}`);
  return value;
}

const rows = positiveInt('rows', values.rows);
const seed = positiveInt('seed', values.seed, 0);
const duration = positiveInt('duration', values.duration);
const warmup = positiveInt('warmup', values.warmup, 0);
const connections = positiveInt('connections', values.connections);
const poolSize = positiveInt('pool', values.pool);
const walkPages = positiveInt('walk-pages', values['walk-pages']);

const TRIP_FIELDS = 'tripId pickupAt dropoffAt tripDistance fareAmount pickupZip dropoffZip';
const PAGE = 100;
const FILTER_ZIP = 10001;

interface BenchCase {
  name: string;
  description: string;
  query: string;
  variables?: Record<string, unknown>;
  /** The same request as the data layer receives it from the resolver. */
  args: TripConnectionArgs;
}

interface GraphQLPage {
  data?: { trips: { edges: { node: { tripId: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } };
  errors?: { message: string }[];
}

async function postGraphQL(url: string, query: string, variables?: Record<string, unknown>): Promise<GraphQLPage> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as GraphQLPage;
  if (response.status !== 200 || body.errors?.length || !body.data) {
    throw new Error(`gateway answered ${response.status}: ${JSON.stringify(body.errors ?? body)}`);
  }
  return body;
}

/** Follows endCursor for `pages` pages and returns the cursor after the last one. */
async function walk(url: string, pages: number): Promise<string> {
  const query = `query Walk($after: String) { trips(first: ${PAGE}, orderBy: [PICKUP_AT_DESC], after: $after) { pageInfo { hasNextPage endCursor } } }`;
  let after: string | undefined;
  for (let page = 1; page <= pages; page += 1) {
    const { pageInfo } = (await postGraphQL(url, query, { after })).data!.trips;
    if (!pageInfo.hasNextPage) throw new Error(`the walk ended at page ${page}; load more rows or walk fewer pages`);
    after = pageInfo.endCursor;
  }
  if (!after) throw new Error('--walk-pages must be at least 1');
  return after;
}

function benchCases(afterCursor: string): BenchCase[] {
  const selection = `edges { node { ${TRIP_FIELDS} } } pageInfo { hasNextPage endCursor }`;
  return [
    {
      name: 'latest',
      description: `latest ${PAGE} trips by pickup time (the reference app's query)`,
      query: `{ trips(first: ${PAGE}, orderBy: [PICKUP_AT_DESC]) { ${selection} } }`,
      args: { first: PAGE, orderBy: ['PICKUP_AT_DESC'] },
    },
    {
      name: 'filtered',
      description: `pickup ZIP ${FILTER_ZIP} and fare 10–30 USD, latest first`,
      query: `{ trips(first: ${PAGE}, orderBy: [PICKUP_AT_DESC], filter: { pickupZip: { eq: ${FILTER_ZIP} }, fareAmount: { gte: 10, lte: 30 } }) { ${selection} } }`,
      args: {
        first: PAGE,
        orderBy: ['PICKUP_AT_DESC'],
        filter: { pickupZip: { eq: FILTER_ZIP }, fareAmount: { gte: 10, lte: 30 } },
      },
    },
    {
      name: 'page500',
      description: `page ${walkPages + 1} of a walk by ${PAGE} (after the cursor of page ${walkPages})`,
      query: `query Page($after: String) { trips(first: ${PAGE}, orderBy: [PICKUP_AT_DESC], after: $after) { ${selection} } }`,
      variables: { after: afterCursor },
      args: { first: PAGE, orderBy: ['PICKUP_AT_DESC'], after: afterCursor },
    },
  ];
}

interface Measured {
  load: LoadResult;
  stats: StatementStats;
  /** CPU time the server process used per request. */
  serverCpuMs: number;
}

async function measureTarget(database: BenchDatabase, server: ChildServer, request: LoadRequest): Promise<Measured> {
  await warmUp(request, connections, warmup);
  await resetStatementStats(database.pool);
  const cpuBefore = await server.cpuMs();
  const load = await measure(request, connections, duration);
  const serverCpuMs = (await server.cpuMs()) - cpuBefore;
  const stats = await readStatementStats(database.pool, BENCH_TABLE);
  return { load, stats, serverCpuMs: serverCpuMs / load.requests };
}

const selectedCases = new Set(values.cases.split(',').map((name) => name.trim()));
const children: ChildServer[] = [];
const database = await startBenchDatabase({ name: 'trips', fresh: values.fresh });
let failed = false;
try {
  console.log(machineNotes());
  const log = (line: string) => console.log(line);
  await ensureSyntheticTrips(database.pool, { rows, seed, log });
  const created = await ensureTripIndexes(database.pool, BENCH_SCHEMA, BENCH_TABLE);
  if (created.length) {
    log(`created indexes: ${created.join(', ')}`);
    await database.pool.query(`ANALYZE ${qualified(BENCH_SCHEMA, BENCH_TABLE)}`);
  }

  const env = {
    DATABASE_URL: database.connectionString,
    PG_POOL_MAX: String(poolSize),
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
  };
  const profileDir = path.resolve('.data', 'bench-profiles', `trips-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  if (values.profile) await mkdir(profileDir, { recursive: true });
  const gateway = await startChildServer({
    script: 'bench/support/gateway-server.ts',
    env,
    label: 'gateway',
    nodeArgs: values.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
  });
  children.push(gateway);

  const walkStarted = performance.now();
  const afterCursor = await walk(gateway.url, walkPages);
  log(`walked ${walkPages} pages through the gateway in ${((performance.now() - walkStarted) / 1000).toFixed(1)} s`);
  const cases = benchCases(afterCursor).filter((c) => selectedCases.has(c.name));
  if (cases.length === 0) throw new Error(`--cases: none of ${values.cases} is a known case`);

  // Record exactly what the gateway's data layer sends for each case.
  const config = loadConfig(env);
  if (!config.database) throw new Error('no database in the benchmark configuration');
  const db = createDb(database.pool, config.database);
  const routes: Record<string, RecordedStatement[]> = {};
  for (const benchCase of cases) {
    const { statements } = await recordStatements(db, async (recording) => {
      const connection = await loadTripConnection(recording, benchCase.args, config.limits);
      await connection.pageInfo.hasNextPage();
    });
    for (const statement of statements) {
      if (JSON.stringify(JSON.parse(JSON.stringify(statement.parameters))) !== JSON.stringify(statement.parameters)) {
        throw new Error(`case ${benchCase.name}: parameters do not survive JSON: ${String(statement.parameters)}`);
      }
    }
    routes[`/${benchCase.name}`] = statements;
    log(`\n[${benchCase.name}] ${benchCase.description}\n  GraphQL: ${benchCase.query}`);
    for (const statement of statements) {
      log(`  SQL:     ${statement.sql}\n  params:  ${JSON.stringify(statement.parameters)}`);
    }
  }
  const baseline = await startChildServer({
    script: 'bench/support/baseline-server.ts',
    env: { ...env, BASELINE_ROUTES: JSON.stringify(routes) },
    label: 'baseline',
  });
  children.push(baseline);

  // Both must answer the same page, or the comparison means nothing.
  for (const benchCase of cases) {
    const page = await postGraphQL(gateway.url, benchCase.query, benchCase.variables);
    const gatewayIds = page.data!.trips.edges.map((edge) => edge.node.tripId);
    const response = await fetch(`${baseline.url}/${benchCase.name}`);
    const baselineRows = ((await response.json()) as { data: { id: string }[][] }).data[0] ?? [];
    const baselineIds = baselineRows.slice(0, PAGE).map((row) => row.id);
    if (gatewayIds.length !== PAGE || JSON.stringify(gatewayIds) !== JSON.stringify(baselineIds)) {
      throw new Error(
        `case ${benchCase.name}: gateway and baseline disagree (${gatewayIds.length} vs ${baselineIds.length} rows)`,
      );
    }
  }

  log(
    `\nload: autocannon, ${connections} connections, ${warmup} s warm-up + ${duration} s per run; pool ${poolSize} connections each`,
  );
  const table: string[][] = [];
  const ratios: number[] = [];
  for (const benchCase of cases) {
    const gatewayRequest: LoadRequest = {
      url: gateway.url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: benchCase.query, variables: benchCase.variables }),
    };
    const viaGateway = await measureTarget(database, gateway, gatewayRequest);
    const viaBaseline = await measureTarget(database, baseline, {
      url: `${baseline.url}/${benchCase.name}`,
      method: 'GET',
    });
    const ratio = viaGateway.load.requestsPerSecond / viaBaseline.load.requestsPerSecond;
    ratios.push(ratio);
    const sameStatement =
      viaGateway.stats.queryIds.length === routes[`/${benchCase.name}`]?.length &&
      viaGateway.stats.queryIds.join() === viaBaseline.stats.queryIds.join();
    for (const [server, measured] of [
      ['gateway', viaGateway],
      ['baseline', viaBaseline],
    ] as const) {
      const { load, stats, serverCpuMs } = measured;
      if (load.failures > 0) failed = true;
      table.push([
        server === 'gateway' ? benchCase.name : '',
        server,
        fmtInt(load.requestsPerSecond),
        fmtMs(load.p50Ms),
        fmtMs(load.p99Ms),
        (stats.calls / load.requests).toFixed(2),
        fmtMs(stats.execMs / load.requests),
        fmtMs(serverCpuMs),
        String(load.failures),
        server === 'gateway' ? `${(ratio * 100).toFixed(0)}%` : '',
      ]);
    }
    if (!sameStatement) {
      failed = true;
      log(
        `case ${benchCase.name}: gateway and baseline sent different statements (pg_stat_statements queryids differ)`,
      );
    }
  }
  console.log(
    `\n${formatTable(['case', 'server', 'req/s', 'p50 ms', 'p99 ms', 'stmts/req', 'db ms/req', 'cpu ms/req', 'failed', 'gw/base'], table)}`,
  );
  const worst = Math.min(...ratios);
  console.log(
    `\ngoal: gateway ≥ 80% of the baseline's throughput in every case: ${worst >= 0.8 ? 'met' : 'NOT met'} ` +
      `(lowest ${(worst * 100).toFixed(0)}%). Load average now ${loadAverage()}.`,
  );
  if (values.profile)
    console.log(`gateway CPU profile: ${profileDir} (summarise: npx tsx bench/support/profile-summary.ts <file>)`);
} finally {
  for (const child of children.reverse()) await child.stop();
  await database.stop();
}
if (failed) {
  console.error('some requests failed or the statements differed; the figures above are not valid');
  process.exitCode = 1;
}
