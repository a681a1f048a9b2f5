/**
 * Trips through the gateway versus the same SQL through plain `pg` (issue 2).
 *
 *   npm run bench -- trips                          # 1M trips, 20 connections, 2 rounds × 10 s per server and case
 *   npm run bench -- trips --duration 20 --rounds 3 --connections 50 --cases latest,page500
 *   npm run bench -- trips --profile                # also writes a CPU profile of the gateway
 *
 * Servers (issue 15): the gateway with its response cache off ("gateway", every request runs its
 * statements) and on ("gw-cached"), the baseline, and PostGraphile V5 (Amber preset + connection
 * filter, GRAPHILE_ENV=production, Node 22; installed on first use by support/postgraphile-peer.ts;
 * --no-postgraphile leaves it out). After the rounds, --writes-checked writes (insert, update,
 * delete in turn) are each followed at once by a request to the cached gateway, compared with pg.
 *
 * All servers run in child processes on 127.0.0.1 with the same pool size; the
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
import { compareInRounds, type TargetFigures } from './support/compare-in-rounds.js';
import { fmtInt, fmtMs, formatTable, loadAverage, machineNotes } from './support/report.js';
import { recordStatements, type RecordedStatement } from './support/sql-recorder.js';
import { ensureTripIndexes } from './support/trip-indexes.js';
import { ensurePostGraphilePeer, POSTGRAPHILE_VERSION } from './support/postgraphile-peer.js';
import { positiveInt } from './support/latest-page-harness.js';

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
    // PostGraphile V5 as a peer (installed on first use, Node 22): --no-postgraphile leaves it out.
    postgraphile: { type: 'boolean', default: true },
    'writes-checked': { type: 'string', default: '30' },
  },
  allowNegative: true,
});

const rows = positiveInt('rows', values.rows);
const seed = positiveInt('seed', values.seed, 0);
const duration = positiveInt('duration', values.duration);
const warmup = positiveInt('warmup', values.warmup, 0);
const rounds = positiveInt('rounds', values.rounds);
const connections = positiveInt('connections', values.connections);
const poolSize = positiveInt('pool', values.pool);
const walkPages = positiveInt('walk-pages', values['walk-pages']);

const TRIP_FIELDS = 'tripId pickupAt dropoffAt tripDistance fareAmount pickupZip dropoffZip';
const PGL_FIELDS = 'rowId tpepPickupDatetime tpepDropoffDatetime tripDistance fareAmount pickupZip dropoffZip';
const PAGE = 100;
const FILTER_ZIP = 10001;

interface BenchCase {
  name: string;
  description: string;
  query: string;
  variables?: Record<string, unknown>;
  /** The same request as the data layer receives it from the resolver. */
  args: TripConnectionArgs;
  /** The same page asked of PostGraphile V5 (Amber preset + connection filter); none where it has no equivalent. */
  postgraphile?: { query: string; variables?: Record<string, unknown> };
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

async function postGraphileIds(
  url: string,
  request: { query: string; variables?: Record<string, unknown> },
): Promise<string[]> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  const body = (await response.json()) as {
    data?: { allTripsSynceds: { edges: { node: { rowId: string } }[] } };
    errors?: unknown[];
  };
  if (!body.data) throw new Error(`PostGraphile answered ${response.status}: ${JSON.stringify(body.errors ?? body)}`);
  return body.data.allTripsSynceds.edges.map((edge) => String(edge.node.rowId));
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
  // PostGraphile's names for the same columns (its `id` is the global node id; the column is `rowId`), same ordering.
  const pgl = (args: string) =>
    `{ allTripsSynceds(first: ${PAGE}, orderBy: [TPEP_PICKUP_DATETIME_DESC, ROW_ID_DESC]${args}) { edges { node { ${PGL_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;
  const pglFilter = `filter: { pickupZip: { equalTo: ${FILTER_ZIP} }, fareAmount: { greaterThanOrEqualTo: 10, lessThanOrEqualTo: 30 } }`;
  return [
    {
      name: 'latest',
      description: `latest ${PAGE} trips by pickup time (the reference app's query)`,
      query: `{ trips(first: ${PAGE}, orderBy: [PICKUP_AT_DESC]) { ${selection} } }`,
      args: { first: PAGE, orderBy: ['PICKUP_AT_DESC'] },
      postgraphile: { query: pgl('') },
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
      postgraphile: { query: pgl(`, ${pglFilter}`) },
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
  // "gateway": the response cache off (every request runs its statements); "gw-cached": as deployed, cache on.
  const gateway = await startChildServer({
    script: values['gateway-script'],
    env: { ...env, RESPONSE_CACHE: 'off' },
    label: 'gateway',
    nodeArgs: values.profile ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
  });
  children.push(gateway);
  const cached = await startChildServer({
    script: values['gateway-script'],
    env: { ...env, RESPONSE_CACHE: 'on' },
    label: 'gw-cached',
  });
  children.push(cached);
  let postgraphile: ChildServer | undefined;
  if (values.postgraphile) {
    const peer = ensurePostGraphilePeer(log);
    postgraphile = await startChildServer({
      script: peer.script,
      node: peer.node,
      env: {
        DATABASE_URL: database.connectionString,
        PG_POOL_MAX: String(poolSize),
        PGSCHEMA: BENCH_SCHEMA,
        GRAPHILE_ENV: 'production',
        NODE_ENV: 'production',
      },
      label: 'postgraphile',
    });
    children.push(postgraphile);
    log(`PostGraphile ${POSTGRAPHILE_VERSION} (Amber preset, connection filter), GRAPHILE_ENV=production, Node 22`);
  }

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

  // All must answer the same page, or the comparison means nothing.
  for (const benchCase of cases) {
    const page = await postGraphQL(gateway.url, benchCase.query, benchCase.variables);
    const gatewayIds = page.data!.trips.edges.map((edge) => edge.node.tripId);
    const cachedPage = await postGraphQL(cached.url, benchCase.query, benchCase.variables);
    if (JSON.stringify(cachedPage) !== JSON.stringify(page)) {
      throw new Error(`case ${benchCase.name}: the cached gateway answers differently`);
    }
    if (postgraphile && benchCase.postgraphile) {
      const peerIds = await postGraphileIds(postgraphile.url, benchCase.postgraphile);
      if (JSON.stringify(peerIds) !== JSON.stringify(gatewayIds)) {
        throw new Error(`case ${benchCase.name}: PostGraphile and the gateway disagree`);
      }
    }
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
  const goals: {
    name: string;
    uncached: TargetFigures;
    baseline: TargetFigures;
    cached: TargetFigures;
    peer: TargetFigures | undefined;
  }[] = [];
  for (const benchCase of cases) {
    const body = JSON.stringify({ query: benchCase.query, variables: benchCase.variables });
    const post = (url: string, json: string) =>
      ({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body: json }) as const;
    const peerTargets =
      postgraphile && benchCase.postgraphile
        ? [
            {
              name: 'postgraphile',
              server: postgraphile,
              request: post(postgraphile.url, JSON.stringify(benchCase.postgraphile)),
            },
          ]
        : [];
    const [viaGateway, viaBaseline, viaCache, viaPeer] = await compareInRounds(
      [
        { name: 'gateway', server: gateway, request: post(gateway.url, body) },
        { name: 'baseline', server: baseline, request: { url: `${baseline.url}/${benchCase.name}`, method: 'GET' } },
        { name: 'gw-cached', server: cached, request: post(cached.url, body) },
        ...peerTargets,
      ],
      {
        connections,
        durationSeconds: duration,
        warmupSeconds: warmup,
        rounds,
        statements: { pool: database.pool, table: BENCH_TABLE },
      },
    );
    if (!viaGateway || !viaBaseline || !viaCache)
      throw new Error('compareInRounds returned fewer figures than targets');
    const vsBaseline = (figures: typeof viaGateway) =>
      figures.roundRequestsPerSecond
        .map((rps, round) => (rps / (viaBaseline.roundRequestsPerSecond[round] ?? Number.NaN)).toFixed(2))
        .join(' ');
    const vsPeer = (figures: typeof viaGateway) =>
      viaPeer
        ? figures.roundRequestsPerSecond
            .map((rps, round) => (rps / (viaPeer.roundRequestsPerSecond[round] ?? Number.NaN)).toFixed(2))
            .join(' ')
        : '';
    goals.push({ name: benchCase.name, uncached: viaGateway, baseline: viaBaseline, cached: viaCache, peer: viaPeer });
    for (const figures of [viaGateway, viaCache, viaBaseline, ...(viaPeer ? [viaPeer] : [])]) {
      if (figures.failures > 0) failed = true;
      const isGateway = figures === viaGateway || figures === viaCache;
      table.push([
        figures === viaGateway ? benchCase.name : '',
        figures.name,
        fmtInt(figures.requestsPerSecond),
        fmtMs(figures.p50Ms),
        fmtMs(figures.p99Ms),
        figures.statementsPerRequest.toFixed(2),
        fmtMs(figures.dbMsPerRequest),
        fmtMs(figures.cpuMsPerRequest),
        String(figures.failures),
        figures === viaBaseline ? '' : (figures.requestsPerSecond / viaBaseline.requestsPerSecond).toFixed(2),
        figures === viaBaseline ? '' : vsBaseline(figures),
        isGateway ? vsPeer(figures) : '',
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
        '÷ pg',
        '÷ pg by round',
        '÷ PostGraphile by round',
      ],
      table,
    )}`,
  );
  console.log(
    'p50: median of the rounds; p99: worst round. cpu ms/req: the server process alone (not Postgres, not the load generator).',
  );
  console.log(
    "stmts/req counts statements naming the trips table (pg_stat_statements): the cached gateway's one version " +
      'read per request (a function call) is not among them.',
  );
  for (const goal of goals) {
    const uncached = goal.uncached.requestsPerSecond / goal.baseline.requestsPerSecond;
    const cachedRatio = goal.cached.requestsPerSecond / goal.baseline.requestsPerSecond;
    const peer = goal.peer ? goal.uncached.requestsPerSecond / goal.peer.requestsPerSecond : undefined;
    console.log(
      `goals ${goal.name}: uncached ${uncached.toFixed(2)}× pg (goal ≥ 0.90: ${uncached >= 0.9 ? 'met' : 'NOT met'})` +
        (peer === undefined
          ? ''
          : `, ${peer.toFixed(2)}× PostGraphile (goal ≥ 1.30: ${peer >= 1.3 ? 'met' : 'NOT met'})`) +
        `; cached ${cachedRatio.toFixed(2)}× pg (goal ≥ 3: ${cachedRatio >= 3 ? 'met' : 'NOT met'})`,
    );
  }
  console.log(`Load average now ${loadAverage()}.`);

  // The cached gateway must be right after every write: each write is followed at once by a request.
  const writesChecked = positiveInt('writes-checked', values['writes-checked'], 0);
  const latest = cases.find((c) => c.name === 'latest');
  if (latest && writesChecked > 0) {
    let equal = 0;
    const future = "timestamptz '2100-01-01'";
    for (let i = 0; i < writesChecked; i += 1) {
      const id = 900_000_000 + i;
      const write = [
        `INSERT INTO ${qualified(BENCH_SCHEMA, BENCH_TABLE)} (id, tpep_pickup_datetime, fare_amount) VALUES (${id}, ${future} + ${i} * interval '1 s', ${i})`,
        `UPDATE ${qualified(BENCH_SCHEMA, BENCH_TABLE)} SET fare_amount = fare_amount + 1 WHERE id >= 900000000`,
        `DELETE FROM ${qualified(BENCH_SCHEMA, BENCH_TABLE)} WHERE id = ${id - 1}`,
      ][i % 3]!;
      await database.pool.query(write);
      const [fromCache, fromPg] = await Promise.all([
        postGraphQL(cached.url, latest.query),
        fetch(`${baseline.url}/latest`).then(async (r) => ((await r.json()) as { data: unknown[][] }).data[0]),
      ]);
      const cachedRows = fromCache.data!.trips.edges.map((edge) => edge.node.tripId);
      const pgRows = (fromPg as { tripId: string }[]).slice(0, PAGE).map((row) => row.tripId);
      if (JSON.stringify(cachedRows) === JSON.stringify(pgRows)) equal += 1;
    }
    await database.pool.query(`DELETE FROM ${qualified(BENCH_SCHEMA, BENCH_TABLE)} WHERE id >= 900000000`);
    console.log(
      `cached gateway after writes (insert/update/delete in turn, each followed at once by a request): ` +
        `${equal} of ${writesChecked} answers equal to the same statement through pg`,
    );
    if (equal !== writesChecked) failed = true;
  }
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
