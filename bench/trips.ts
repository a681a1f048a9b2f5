/**
 * Trips through the gateway versus the same SQL through plain `pg` (issue 2).
 *
 *   npm run bench -- trips                          # 1M trips, 20 connections, 2 rounds × 10 s per server and case
 *   npm run bench -- trips --duration 20 --rounds 3 --connections 50 --cases latest,page500
 *   npm run bench -- trips --profile                # also writes a CPU profile of the gateway
 *
 * Both servers run in child processes on 127.0.0.1 with the same pool size; the
 * load generator (autocannon) runs here and measures them in alternating rounds. The baseline replays the statements
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
import { BENCH_SCHEMA, BENCH_TABLE, ensureSyntheticTrips, startBenchDatabase } from './support/bench-database.js';
import { startChildServer, type ChildServer } from './support/child-server.js';
import { buildGateway } from './support/production-build.js';
import { compareInRounds } from './support/compare-in-rounds.js';
import { fmtInt, fmtMs, formatTable, loadAverage, machineNotes } from './support/report.js';
import { recordStatements, type RecordedStatement } from './support/sql-recorder.js';
import { ensureTripIndexes } from './support/trip-indexes.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '2016' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '20' },
    pool: { type: 'string', default: '10' },
    cases: { type: 'string', default: 'latest,filtered,filtered-vars,page500' },
    'walk-pages': { type: 'string', default: '499' },
    fresh: { type: 'boolean', default: false },
    // Another gateway entry (e.g. an older checkout's bench/support/gateway-server.ts) for before/after comparisons.
    'gateway-script': { type: 'string', default: 'bench/support/gateway-server.ts' },
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
const rounds = positiveInt('rounds', values.rounds);
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
      // The same page with the filter passed as a variable, as most clients send it: TripFilter is a
      // recursive input type, which src/server/fast-paths/compiled-execution.ts handles specially.
      name: 'filtered-vars',
      description: 'as filtered, with the filter passed in a $filter: TripFilter variable',
      query: `query Filtered($filter: TripFilter) { trips(first: ${PAGE}, orderBy: [PICKUP_AT_DESC], filter: $filter) { ${selection} } }`,
      variables: { filter: { pickupZip: { eq: FILTER_ZIP }, fareAmount: { gte: 10, lte: 30 } } },
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

function isJsonNative(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  return Array.isArray(value) && value.every(isJsonNative);
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
    ...(await buildGateway(log)),
    DATABASE_URL: database.connectionString,
    PG_POOL_MAX: String(poolSize),
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    // The rollup service compares its signature with the trips table every 10 s; that statement mentions the table
    // and would fail the same-statements check below (and count as a statement per request) without serving one.
    ROLLUP_POLL_MS: '0',
  };
  const profileDir = path.resolve('.data', 'bench-profiles', `trips-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  if (values.profile) await mkdir(profileDir, { recursive: true });
  const gateway = await startChildServer({
    script: values['gateway-script'],
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
    // The baseline receives the parameters as JSON; a Date or bigint would arrive as something else.
    for (const statement of statements) {
      const foreign = statement.parameters.find((parameter) => !isJsonNative(parameter));
      if (foreign !== undefined) {
        throw new Error(
          `case ${benchCase.name}: parameter ${String(foreign)} cannot be passed to the baseline as JSON`,
        );
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
    const baselineRows = ((await response.json()) as { data: { tripId: string }[][] }).data[0] ?? [];
    const baselineIds = baselineRows.slice(0, PAGE).map((row) => row.tripId);
    if (gatewayIds.length !== PAGE || JSON.stringify(gatewayIds) !== JSON.stringify(baselineIds)) {
      throw new Error(
        `case ${benchCase.name}: gateway and baseline disagree (${gatewayIds.length} vs ${baselineIds.length} rows)`,
      );
    }
  }

  log(
    `\nload: autocannon, ${connections} connections; per case ${warmup} s warm-up each, then ${rounds} alternating ` +
      `rounds of ${duration} s per server; pool ${poolSize} connections each`,
  );
  const table: string[][] = [];
  const ratios: number[] = [];
  for (const benchCase of cases) {
    const [viaGateway, viaBaseline] = await compareInRounds(
      [
        {
          name: 'gateway',
          server: gateway,
          request: {
            url: gateway.url,
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: benchCase.query, variables: benchCase.variables }),
          },
        },
        { name: 'baseline', server: baseline, request: { url: `${baseline.url}/${benchCase.name}`, method: 'GET' } },
      ],
      {
        connections,
        durationSeconds: duration,
        warmupSeconds: warmup,
        rounds,
        statements: { pool: database.pool, table: BENCH_TABLE },
      },
    );
    if (!viaGateway || !viaBaseline) throw new Error('compareInRounds returned fewer figures than targets');
    const ratio = viaGateway.requestsPerSecond / viaBaseline.requestsPerSecond;
    ratios.push(ratio);
    const roundRatios = viaGateway.roundRequestsPerSecond.map(
      (rps, round) => `${((rps / (viaBaseline.roundRequestsPerSecond[round] ?? Number.NaN)) * 100).toFixed(0)}%`,
    );
    for (const figures of [viaGateway, viaBaseline]) {
      if (figures.failures > 0) failed = true;
      const isGateway = figures === viaGateway;
      table.push([
        isGateway ? benchCase.name : '',
        figures.name,
        fmtInt(figures.requestsPerSecond),
        fmtMs(figures.p50Ms),
        fmtMs(figures.p99Ms),
        figures.statementsPerRequest.toFixed(2),
        fmtMs(figures.dbMsPerRequest),
        fmtMs(figures.cpuMsPerRequest),
        String(figures.failures),
        isGateway ? `${(ratio * 100).toFixed(0)}%` : '',
        isGateway ? roundRatios.join(' ') : '',
      ]);
    }
    const recorded = routes[`/${benchCase.name}`]?.length ?? 0;
    if (viaGateway.queryIds.length !== recorded || viaGateway.queryIds.join() !== viaBaseline.queryIds.join()) {
      failed = true;
      log(
        `case ${benchCase.name}: gateway and baseline sent different statements (pg_stat_statements queryids differ)`,
      );
    }
  }
  console.log(
    `\n${formatTable(
      [
        'case',
        'server',
        'req/s',
        'p50 ms',
        'p99 ms',
        'stmts/req',
        'db ms/req',
        'cpu ms/req',
        'failed',
        'gw/base',
        'by round',
      ],
      table,
    )}`,
  );
  console.log(
    'p50: median of the rounds; p99: worst round. cpu ms/req: the server process alone (not Postgres, not the load generator).',
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
