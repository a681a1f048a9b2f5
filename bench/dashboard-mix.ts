/**
 * A realistic mix (issue 15): many dashboard clients revalidating the latest
 * trips every few seconds, as browsers do with an ETag, while a sync writes
 * rows into the table. Measures what the database does with the response
 * cache on and off, in the same run.
 *
 *   npm run bench -- dashboard-mix                       # 1,000 clients every 3 s, 50 rows/s, 20 s per mode
 *   npm run bench -- dashboard-mix --clients 500 --interval 2 --write-rate 50 --duration 30
 *
 * Each client sends GET /graphql?query=… with If-None-Match set to the last
 * ETag it got (a 304 has no body). The writer inserts rows with new pickup
 * times, so every write changes the dashboard's answer; by default in one
 * commit per second (--writes-per-second), as a sync commits its batches. Statements/s counts
 * every statement Postgres ran except the writer's and this script's own
 * (pg_stat_statements, all statements of the gateway: version reads, pages,
 * the live feed's and rollups' polls).
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { qualified } from '../src/db/sql-identifiers.js';
import { BENCH_SCHEMA, BENCH_TABLE, ensureSyntheticTrips, startBenchDatabase } from './support/bench-database.js';
import { startChildServer, type ChildServer } from './support/child-server.js';
import { buildGateway } from './support/production-build.js';
import { fmtInt, fmtMs, formatTable, loadAverage, machineNotes } from './support/report.js';
import { ensureTripIndexes } from './support/trip-indexes.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '2016' },
    clients: { type: 'string', default: '1000' },
    interval: { type: 'string', default: '3' },
    'write-rate': { type: 'string', default: '50' },
    'writes-per-second': { type: 'string', default: '1' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    fresh: { type: 'boolean', default: false },
  },
});

function positive(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name}: expected a positive number, got ${raw}`);
  return value;
}

const rows = positive('rows', values.rows);
const clients = positive('clients', values.clients);
const intervalMs = positive('interval', values.interval) * 1000;
const rowsPerSecond = positive('write-rate', values['write-rate']);
const commitsPerSecond = positive('writes-per-second', values['writes-per-second']);
const durationMs = positive('duration', values.duration) * 1000;
const warmupMs = Number(values.warmup) * 1000;

const QUERY =
  '{ trips(first: 100, orderBy: [PICKUP_AT_DESC]) { edges { node { tripId pickupAt dropoffAt tripDistance fareAmount pickupZip dropoffZip } } } }';

interface ModeFigures {
  mode: string;
  requests: number;
  notModified: number;
  failures: number;
  p50Ms: number;
  p99Ms: number;
  statementsPerSecond: number;
  pageStatementsPerSecond: number;
  rowsWritten: number;
  seconds: number;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function get(url: URL, etag: string | undefined): Promise<{ status: number; etag: string | undefined; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.get(
      url,
      { agent, headers: { accept: 'application/json', ...(etag ? { 'if-none-match': etag } : {}) } },
      (response) => {
        response.resume();
        response.once('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            etag: (response.headers.etag as string | undefined) ?? etag,
            ms: performance.now() - started,
          }),
        );
      },
    );
    request.once('error', reject);
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

const database = await startBenchDatabase({ name: 'trips', fresh: values.fresh });
const children: ChildServer[] = [];
try {
  console.log(machineNotes());
  const log = (line: string) => console.log(line);
  await ensureSyntheticTrips(database.pool, { rows, seed: Number(values.seed), log });
  await ensureTripIndexes(database.pool, BENCH_SCHEMA, BENCH_TABLE);
  const table = qualified(BENCH_SCHEMA, BENCH_TABLE);
  const buildEnv = await buildGateway(log);
  log(
    `\n${clients} clients, each revalidating every ${intervalMs / 1000} s (If-None-Match); a writer inserting ` +
      `${rowsPerSecond} rows/s in ${commitsPerSecond} commits/s; ${durationMs / 1000} s measured per mode after ` +
      `${warmupMs / 1000} s warm-up.`,
  );
  const results: ModeFigures[] = [];
  for (const mode of ['on', 'off']) {
    const gateway = await startChildServer({
      script: 'bench/support/gateway-server.ts',
      env: {
        ...buildEnv,
        DATABASE_URL: database.connectionString,
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
        RESPONSE_CACHE: mode,
      },
      label: `gateway (cache ${mode})`,
    });
    children.push(gateway);
    const url = new URL(`${gateway.url}?query=${encodeURIComponent(QUERY)}`);
    const { rows: head } = await database.pool.query<{ max: string }>(`SELECT max(id)::text AS max FROM ${table}`);
    let nextId = BigInt(head[0]?.max ?? '0') + 1n;

    let measuring = false;
    let stopped = false;
    const latencies: number[] = [];
    let requests = 0;
    let notModified = 0;
    let failures = 0;
    let rowsWritten = 0;

    const clientLoops = Array.from({ length: clients }, async (_, i) => {
      let etag: string | undefined;
      // Spread evenly over the interval, as clients that opened the page at different times.
      await new Promise((resolve) => setTimeout(resolve, (i / clients) * intervalMs));
      while (!stopped) {
        const due = performance.now() + intervalMs;
        try {
          const answer = await get(url, etag);
          etag = answer.etag;
          if (measuring) {
            requests += 1;
            latencies.push(answer.ms);
            if (answer.status === 304) notModified += 1;
            else if (answer.status !== 200) failures += 1;
          }
        } catch {
          if (measuring) failures += 1;
        }
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    });
    const perCommit = Math.max(1, Math.round(rowsPerSecond / commitsPerSecond));
    const writer = (async () => {
      while (!stopped) {
        const due = performance.now() + 1000 / commitsPerSecond;
        const first = nextId;
        nextId += BigInt(perCommit);
        await database.pool.query(
          `INSERT INTO ${table} (id, tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, fare_amount, pickup_zip, dropoff_zip)
           SELECT g, now() + interval '10 years', now() + interval '10 years 20 minutes', 2.5, 12, 10001, 10002
             FROM generate_series($1::bigint, $2::bigint) AS g`,
          [first.toString(), (nextId - 1n).toString()],
        );
        if (measuring) rowsWritten += perCommit;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    })();

    await new Promise((resolve) => setTimeout(resolve, warmupMs));
    await database.pool.query('SELECT pg_stat_statements_reset()');
    measuring = true;
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    measuring = false;
    const seconds = (performance.now() - started) / 1000;
    const { rows: stats } = await database.pool.query<{ calls: string; pages: string }>(
      `SELECT coalesce(sum(calls), 0)::text AS calls,
              coalesce(sum(calls) FILTER (WHERE query ILIKE '%select%' AND query LIKE '%' || $1 || '%'), 0)::text AS pages
         FROM pg_stat_statements
        WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT ILIKE 'INSERT INTO%' AND query NOT LIKE '%max(id)%'`,
      [BENCH_TABLE],
    );
    stopped = true;
    await Promise.all([...clientLoops, writer]);
    await gateway.stop();
    children.pop();
    await database.pool.query(`DELETE FROM ${table} WHERE tpep_pickup_datetime > now() + interval '5 years'`);
    latencies.sort((a, b) => a - b);
    results.push({
      mode,
      requests,
      notModified,
      failures,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      statementsPerSecond: Number(stats[0]?.calls ?? 0) / seconds,
      pageStatementsPerSecond: Number(stats[0]?.pages ?? 0) / seconds,
      rowsWritten,
      seconds,
    });
  }
  console.log(
    `\n${formatTable(
      [
        'cache',
        'req/s',
        '304 share',
        'p50 ms',
        'p99 ms',
        'failed',
        'DB statements/s',
        'of them naming the table',
        'rows written/s',
      ],
      results.map((r) => [
        r.mode,
        fmtInt(r.requests / r.seconds),
        `${((r.notModified / Math.max(1, r.requests)) * 100).toFixed(0)}%`,
        fmtMs(r.p50Ms),
        fmtMs(r.p99Ms),
        String(r.failures),
        fmtInt(r.statementsPerSecond),
        fmtInt(r.pageStatementsPerSecond),
        fmtInt(r.rowsWritten / r.seconds),
      ]),
    )}`,
  );
  console.log(`Load average now ${loadAverage()}.`);
  if (results.some((r) => r.failures > 0)) process.exitCode = 1;
} finally {
  for (const child of children.reverse()) await child.stop();
  agent.destroy();
  await database.stop();
}
