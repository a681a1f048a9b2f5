/**
 * Subscriptions benchmark: one gateway process holding 1,000 / 5,000 / 10,000
 * tripsAdded subscribers (real SSE connections from a separate load-generator
 * process) while the "sync pipeline" commits rows at a steady rate.
 *
 *   npx tsx bench/subscriptions.ts [--subscribers 1000,5000,10000] [--wakeups poll,notify]
 *     [--seconds 20] [--syncs-per-second 1] [--rows-per-sync 10] [--mode distinct|single]
 *     [--load-processes 1] [--reader http|net]
 *
 * --load-processes N splits the subscribers over N load-generator processes.
 * One process reads every socket on one core, one after the other, so its own
 * reading time shows up as delivery latency; real clients read in parallel.
 * The default stays 1, the figures recorded before the option existed.
 * --reader net reads distinct-connections streams straight off TCP sockets
 * (support/net-sse.ts) instead of through node:http, which costs the load
 * generator less per event; the default stays http (docs/performance.md).
 *
 * Reports per scenario: delivery latency p50/p90/p99/max (row written →
 * received by the client), whether every subscriber got every row, the
 * gateway's RSS and CPU, the load generator's CPU, and SQL statements per
 * second against the synced table (pg_stat_statements and the feed's own
 * counter). Uses BENCH_DATABASE_URL when set, else an embedded Postgres.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/dev/embedded-postgres.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import type { LoadReport } from './sse-clients.js';
import { ask } from './support/child-ipc.js';
import type { GatewayStats } from './support/gateway-process.js';
import { buildGateway } from './support/production-build.js';

interface Options {
  subscribers: number[];
  wakeups: ('poll' | 'notify')[];
  seconds: number;
  syncsPerSecond: number;
  rowsPerSync: number;
  mode: 'distinct' | 'single';
  loadProcesses: number;
  reader: 'net' | 'http';
}

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: string) => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 && argv[index + 1] ? argv[index + 1]! : fallback;
  };
  return {
    subscribers: value('subscribers', '1000,5000,10000').split(',').map(Number),
    wakeups: value('wakeups', 'poll,notify').split(',') as Options['wakeups'],
    seconds: Number(value('seconds', '20')),
    syncsPerSecond: Number(value('syncs-per-second', '1')),
    rowsPerSync: Number(value('rows-per-sync', '10')),
    mode: value('mode', 'distinct') as Options['mode'],
    loadProcesses: Number(value('load-processes', '1')),
    reader: value('reader', 'http') as Options['reader'],
  };
}

const here = path.dirname(fileURLToPath(import.meta.url));
const gatewayBuild = await buildGateway((line) => console.log(line));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startGateway(
  databaseUrl: string,
  wakeup: 'poll' | 'notify',
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawnWithFiles(
    path.join(here, 'support/gateway-process.ts'),
    {
      ...gatewayBuild,
      DATABASE_URL: databaseUrl,
      LIVE_POLL_INTERVAL_MS: '1000',
      LIVE_NOTIFY_CHANNEL: wakeup === 'notify' ? 'lakebase_graphql_sync' : 'off',
      LIVE_MAX_SUBSCRIBERS: '50000',
      // Every load-generator connection comes from 127.0.0.1, one client identity for the per-client bounds.
      MAX_SUBSCRIPTIONS_PER_CLIENT: '50000',
      MAX_STREAMS_PER_CLIENT: '50000',
      LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
    },
    // BENCH_GATEWAY_NODE_FLAGS: extra V8/Node flags for the gateway process, e.g. --max-semi-space-size=32.
    `--expose-gc ${process.env.BENCH_GATEWAY_NODE_FLAGS ?? ''}`,
  );
  const ready = await ask<{ url: string }>(child, null, 'ready', 60_000);
  return { child, url: ready.url };
}

/** A TypeScript child with IPC, its open-files limit raised to the hard limit (it holds thousands of sockets). */
function spawnWithFiles(script: string, env: Record<string, string>, nodeFlags = ''): ChildProcess {
  // BENCH_PROFILE=dir writes a V8 CPU profile of each child there.
  const profile = process.env.BENCH_PROFILE ? `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE}` : '';
  return spawn(
    'sh',
    ['-c', `ulimit -n "$(ulimit -Hn)"; exec "$0" ${nodeFlags} ${profile} --import tsx "$1"`, process.execPath, script],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
    },
  );
}

async function statementsAgainstSyncedTable(admin: pg.Pool, database: string): Promise<number> {
  const { rows } = await admin.query<{ calls: string | null }>(
    `SELECT sum(calls)::text AS calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
      WHERE d.datname = $1 AND s.query ILIKE '%trips_synced%' AND s.query NOT ILIKE 'insert%'`,
    [database],
  );
  return Number(rows[0]?.calls ?? 0);
}

interface Result {
  subscribers: number;
  wakeup: string;
  connectSeconds: number;
  report: LoadReport;
  rowsWritten: number;
  everyRowToEveryone: boolean;
  gatewayCpuPercent: number;
  loadCpuPercent: number;
  rssMb: number;
  maxRssMb: number;
  /** Heap of live objects per subscriber, after a full GC. */
  heapKbPerSubscriber: number;
  /** The machine's 1-minute load average at the end of the window (other work competes for the CPUs). */
  loadAverage: number;
  statementsPerSecond: number;
  feedStatementsPerSecond: number;
  ticksPerSecond: number;
}

async function runScenario(
  options: Options,
  subscribers: number,
  wakeup: 'poll' | 'notify',
  databaseUrl: string,
  admin: pg.Pool,
  writer: pg.Pool,
  database: string,
  nextId: { value: number },
): Promise<Result> {
  const gateway = await startGateway(databaseUrl, wakeup);
  const loads = Array.from({ length: options.loadProcesses }, () =>
    spawnWithFiles(path.join(here, 'sse-clients.ts'), { NODE_ENV: 'production' }),
  );
  const all = <T>(message: object | null, replyType: string, timeoutMs?: number) =>
    Promise.all(loads.map((load) => ask<T>(load, message, replyType, timeoutMs)));
  await all(null, 'ready', 60_000);
  const origin = new URL(gateway.url).origin;
  const share = (index: number) =>
    Math.floor((subscribers * (index + 1)) / loads.length) - Math.floor((subscribers * index) / loads.length);
  const replies = await Promise.all(
    loads.map((load, index) =>
      ask<{ ms: number }>(
        load,
        { type: 'connect', origin, count: share(index), mode: options.mode, concurrency: 200, reader: options.reader },
        'connected',
      ),
    ),
  );
  // Connected once the slowest load process has all of its subscribers.
  const connected = { ms: Math.max(...replies.map((reply) => reply.ms)) };
  await sleep(2000);

  const stats = () => ask<GatewayStats>(gateway.child, { type: 'stats' }, 'stats');
  await admin.query('SELECT pg_stat_statements_reset()');
  await all({ type: 'reset' }, 'reset');
  const before = await stats();
  const startedAt = Date.now();
  let maxRss = before.rss;
  const rssSampler = setInterval(() => {
    void stats().then((s) => (maxRss = Math.max(maxRss, s.rss)));
  }, 1000);

  // The pipeline: one transaction per sync, notifying on commit when asked to.
  const syncs = options.seconds * options.syncsPerSecond;
  const firstId = nextId.value;
  // Syncs at a steady rate, their period a little longer than the slot (1/syncs
  // of it): a period equal to the poll interval would lock their phases and
  // measure one point of the poll cycle; this one sweeps the whole cycle once
  // over the window, and consecutive syncs never crowd each other.
  const period = (1000 / options.syncsPerSecond) * (1 + 1 / syncs);
  for (let sync = 0; sync < syncs; sync += 1) {
    const due = startedAt + sync * period;
    if (due > Date.now()) await sleep(due - Date.now());
    const client = await writer.connect();
    try {
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, fare_amount, pickup_zip, dropoff_zip)
         SELECT g, clock_timestamp(), clock_timestamp() + interval '15 minutes', 2.1, 12.5, 10001, 11430
           FROM generate_series($1::int8, $2::int8) g`,
        [nextId.value, nextId.value + options.rowsPerSync - 1],
      );
      if (wakeup === 'notify') await client.query(`SELECT pg_notify('lakebase_graphql_sync', $1)`, [String(sync)]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    nextId.value += options.rowsPerSync;
  }
  await sleep(3000); // let the last sync reach everyone
  clearInterval(rssSampler);
  const after = await stats();
  const live = await ask<GatewayStats>(gateway.child, { type: 'stats', collectGarbage: true }, 'stats');
  const report = mergeReports(await all<LoadReport>({ type: 'report' }, 'report'));
  const statements = await statementsAgainstSyncedTable(admin, database);
  const measuredSeconds = (Date.now() - startedAt) / 1000;
  for (const load of loads) load.send({ type: 'close' });
  gateway.child.send({ type: 'stop' });
  await Promise.all([...loads.map(once), once(gateway.child)]);
  const rowsWritten = nextId.value - firstId;
  return {
    subscribers,
    wakeup,
    connectSeconds: connected.ms / 1000,
    report,
    rowsWritten,
    everyRowToEveryone:
      report.minRows === rowsWritten && report.maxRows === rowsWritten && report.connected === subscribers,
    gatewayCpuPercent: ((after.cpuMicros - before.cpuMicros) / 1e6 / measuredSeconds) * 100,
    loadCpuPercent: (report.cpuMicros / 1e6 / measuredSeconds) * 100,
    rssMb: after.rss / 2 ** 20,
    maxRssMb: Math.max(maxRss, after.rss) / 2 ** 20,
    heapKbPerSubscriber: live.heapUsed / 1024 / subscribers,
    loadAverage: os.loadavg()[0]!,
    statementsPerSecond: statements / measuredSeconds,
    feedStatementsPerSecond: (after.feed.feedStatements - before.feed.feedStatements) / measuredSeconds,
    ticksPerSecond: (after.feed.ticks - before.feed.ticks) / measuredSeconds,
  };
}

/** One report for several load processes: counts added, latencies merged from their histograms. */
function mergeReports(reports: LoadReport[]): LoadReport {
  const histogram: Record<number, number> = {};
  for (const report of reports) {
    for (const [ms, count] of Object.entries(report.histogram))
      histogram[Number(ms)] = (histogram[Number(ms)] ?? 0) + count;
  }
  const samples = reports.reduce((sum, report) => sum + report.samples, 0);
  const latencies = Object.keys(histogram)
    .map(Number)
    .sort((a, b) => a - b);
  const percentile = (fraction: number) => {
    const rank = Math.ceil(samples * fraction);
    let seen = 0;
    for (const ms of latencies) {
      seen += histogram[ms]!;
      if (seen >= rank) return ms;
    }
    return latencies.at(-1) ?? 0;
  };
  const sum = (pick: (report: LoadReport) => number) => reports.reduce((total, report) => total + pick(report), 0);
  return {
    type: 'report',
    clients: sum((report) => report.clients),
    connected: sum((report) => report.connected),
    minRows: Math.min(...reports.map((report) => report.minRows)),
    maxRows: Math.max(...reports.map((report) => report.maxRows)),
    samples,
    p50: percentile(0.5),
    p90: percentile(0.9),
    p99: percentile(0.99),
    max: latencies.at(-1) ?? 0,
    errors: sum((report) => report.errors),
    closed: sum((report) => report.closed),
    cpuMicros: sum((report) => report.cpuMicros),
    histogram,
  };
}

function once(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Runs the scenarios and prints a JSON line per scenario, then a Markdown table. */
export async function runSubscriptionsBenchmark(argv: string[]): Promise<void> {
  const options = parseOptions(argv);
  let embedded: EmbeddedDatabase | undefined;
  let adminUrl = process.env.BENCH_DATABASE_URL;
  let dir: string | undefined;
  if (!adminUrl) {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lakebase-graphql-bench-'));
    embedded = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), persistent: false });
    adminUrl = embedded.connectionString;
  }
  const database = `bench_subscriptions_${process.pid}`;
  const admin = new pg.Pool({ connectionString: adminUrl, max: 2 });
  admin.on('error', () => {});
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const writer = new pg.Pool({ connectionString: url.toString(), max: 2 });
  // pool.end() may resolve while a connection still closes; DROP ... FORCE then kills it.
  writer.on('error', () => {});
  await ensureSyncedTable(writer, 'default', 'trips_synced');
  await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  // A table of realistic size, so the keyset statement walks a real index.
  await writer.query(
    `INSERT INTO "default".trips_synced SELECT g, now() - interval '1 day', now() - interval '1 day', 1.5, 9.5, 10001, 10022
       FROM generate_series(1, 500000) g`,
  );
  await writer.query('ANALYZE "default".trips_synced');
  const nextId = { value: 500_001 };

  console.log(
    `subscriptions benchmark: ${options.seconds} s per scenario, ${options.syncsPerSecond} sync/s × ${options.rowsPerSync} rows, ` +
      `${options.mode} connections, ${options.loadProcesses} load process(es) reading through ${options.reader === 'net' ? 'net sockets' : 'node:http'}, ${os.cpus().length} CPUs, Node ${process.version}`,
  );
  const results: Result[] = [];
  try {
    for (const wakeup of options.wakeups) {
      for (const subscribers of options.subscribers) {
        const result = await runScenario(options, subscribers, wakeup, url.toString(), admin, writer, database, nextId);
        results.push(result);
        // The histogram is for merging load processes' reports, not for reading.
        const { histogram: _histogram, ...report } = result.report;
        console.log(JSON.stringify({ ...result, report }));
      }
    }
  } finally {
    await writer.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
    await embedded?.stop();
    // stop() removes the cluster's folder, not the one made for it here.
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }

  console.log(
    '\n| wake-up | subscribers | connect s | p50 ms | p90 ms | p99 ms | max ms | all rows to all | gateway CPU % | load-gen CPU % | RSS MB (max) | heap KB/subscriber | load avg | SQL/s on table (pg_stat_statements) | feed statements/s | ticks/s |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.wakeup === 'poll' ? '1 s poll' : 'NOTIFY'} | ${r.subscribers} | ${r.connectSeconds.toFixed(1)} | ${r.report.p50} | ${r.report.p90} | ${r.report.p99} | ${r.report.max} | ` +
        `${r.everyRowToEveryone ? 'yes' : `NO (${r.report.minRows}-${r.report.maxRows} of ${r.rowsWritten})`} | ${r.gatewayCpuPercent.toFixed(0)} | ${r.loadCpuPercent.toFixed(0)} | ` +
        `${r.rssMb.toFixed(0)} (${r.maxRssMb.toFixed(0)}) | ${r.heapKbPerSubscriber.toFixed(1)} | ${r.loadAverage.toFixed(1)} | ${r.statementsPerSecond.toFixed(2)} | ${r.feedStatementsPerSecond.toFixed(2)} | ${r.ticksPerSecond.toFixed(2)} |`,
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runSubscriptionsBenchmark(process.argv.slice(2));
}
