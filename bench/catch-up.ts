/**
 * A long catch-up (issue 12): how long one subscriber takes to receive a
 * backlog of `rows` changes from an old cursor, while the window table is
 * analyzed now and then, as autovacuum does once a catch-up window is written
 * (capture/windows.ts: before 2026-12-03 that made every page scan its whole
 * window, so the catch-up grew with the square of its backlog).
 *
 *   npx tsx bench/catch-up.ts [--rows 1000000] [--rounds 2] [--analyze-ms 500] [--before /path/to/checkout]
 *
 * Each round: a gateway process (bench/support/gateway-process.ts, from dist/),
 * a cursor, one statement inserting `rows` trips (one change record), then a
 * graphql-sse client subscribing to tripChanges from the cursor, timed until it
 * has every change, each exactly once. --analyze-ms 0 leaves the statistics to
 * autovacuum alone. --before runs the same rounds, alternately, on another
 * checkout (built there: npm run build), to compare two versions of the code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createClient } from 'graphql-sse';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/dev/embedded-postgres.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { ask } from './support/child-ipc.js';
import type { GatewayStats } from './support/gateway-process.js';
import { positiveInt } from './support/latest-page-harness.js';
import { buildGateway } from './support/production-build.js';
import { loadAverage } from './support/report.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '2' },
    'analyze-ms': { type: 'string', default: '500' },
    before: { type: 'string' },
  },
});
const rows = positiveInt('rows', values.rows);
const rounds = positiveInt('rounds', values.rounds);
const analyzeMs = positiveInt('analyze-ms', values['analyze-ms'], 0);
const here = fileURLToPath(new URL('..', import.meta.url));
const trees: [string, string][] = [['this tree', here]];
if (values.before) trees.unshift(['before', path.resolve(values.before)]);

const build = await buildGateway(console.log);
const embedded = await startEmbeddedPostgres({
  dataDir: path.join(await mkdtemp(path.join(os.tmpdir(), 'lakebase-graphql-catch-up-')), 'pg'),
  persistent: false,
});
const admin = new pg.Pool({ connectionString: embedded.connectionString, max: 1 });
await admin.query('CREATE DATABASE bench_catch_up');
const url = embedded.connectionString.replace(/\/postgres$/, '/bench_catch_up');
const writer = new pg.Pool({ connectionString: url, max: 2 });
await ensureSyncedTable(writer, 'default', 'trips_synced');
const GATEWAY_SCHEMA = 'lakebase_graphql';

async function startGateway(root: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bench/support/gateway-process.ts')], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      ...build,
      DATABASE_URL: url,
      GATEWAY_SCHEMA,
      ROLLUP_POLL_MS: '3600000',
      // BENCH_LOG_LEVEL=debug shows the gateway's window log lines.
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      NODE_ENV: 'production',
    },
  });
  const ready = await ask<{ url: string }>(child, null, 'ready', 120_000);
  return { child, url: ready.url };
}

let nextId = 1;

/** One catch-up of `rows` changes on a gateway from `root`; returns seconds and the feed's counters. */
async function catchUp(
  root: string,
): Promise<{ seconds: number; windows: number; statements: number; analyzes: number }> {
  const gateway = await startGateway(root);
  const endpoint = new URL('/graphql', gateway.url).href;
  try {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ trips(first: 1) { streamCursor } }' }),
    });
    const cursor = ((await response.json()) as { data: { trips: { streamCursor: string } } }).data.trips.streamCursor;
    const first = nextId;
    await writer.query(
      `INSERT INTO "default".trips_synced (id, fare_amount) SELECT i, i % 50 FROM generate_series($1::int8, $2::int8) i`,
      [first, first + rows - 1],
    );
    nextId += rows;
    await writer.query('ANALYZE "default".trips_synced');
    const before = await ask<GatewayStats>(gateway.child, { type: 'stats' }, 'stats');

    const client = createClient({ url: endpoint, retryAttempts: 0 });
    let received = 0;
    let expected = first;
    let done = false;
    const started = performance.now();
    const analyzing = (async () => {
      let count = 0;
      while (analyzeMs > 0 && !done) {
        await new Promise((resolve) => setTimeout(resolve, analyzeMs));
        if (!done) await writer.query(`ANALYZE "${GATEWAY_SCHEMA}".trip_change_window_rows`);
        count += 1;
      }
      return count;
    })();
    await new Promise<void>((resolve, reject) => {
      const stop = client.subscribe<{ tripChanges: { changes: { kind: string; tripId: string }[] } }>(
        {
          query: `subscription ($after: String) { tripChanges(after: $after) { cursor changes { kind tripId } } }`,
          variables: { after: cursor },
        },
        {
          next: ({ data, errors }) => {
            if (errors) return reject(new Error(JSON.stringify(errors)));
            for (const change of data!.tripChanges.changes) {
              // Every change exactly once, in key order (one statement wrote them all).
              if (change.kind !== 'INSERT' || change.tripId !== String(expected)) {
                reject(new Error(`expected INSERT ${expected}, got ${change.kind} ${change.tripId}`));
                return;
              }
              expected += 1;
              received += 1;
            }
            if (received === rows) {
              stop();
              resolve();
            }
          },
          error: reject,
          complete: () => (received === rows ? resolve() : reject(new Error(`completed after ${received} changes`))),
        },
      );
    });
    const seconds = (performance.now() - started) / 1000;
    done = true;
    const analyzes = await analyzing;
    client.dispose();
    const after = await ask<GatewayStats>(gateway.child, { type: 'stats' }, 'stats');
    const windows = (after.feed as { windowsOpened?: number }).windowsOpened ?? 0;
    return {
      seconds,
      windows: windows - ((before.feed as { windowsOpened?: number }).windowsOpened ?? 0),
      statements: after.feed.catchUpStatements - before.feed.catchUpStatements,
      analyzes,
    };
  } finally {
    gateway.child.send({ type: 'stop' });
    await new Promise((resolve) => gateway.child.once('exit', resolve));
  }
}

try {
  console.log(
    `catch-up of ${rows} changes, ANALYZE of the window table every ${analyzeMs || '(never)'} ms, ` +
      `${rounds} round(s); load average ${loadAverage()}`,
  );
  console.log('| round | tree | seconds | changes/s | windows opened | catch-up statements | ANALYZE runs |');
  console.log('|---|---|---|---|---|---|---|');
  for (let round = 1; round <= rounds; round += 1) {
    for (const [name, root] of round % 2 ? trees : [...trees].reverse()) {
      const result = await catchUp(root);
      console.log(
        `| ${round} | ${name} | ${result.seconds.toFixed(1)} | ${Math.round(rows / result.seconds)} | ` +
          `${result.windows} | ${result.statements} | ${result.analyzes} |`,
      );
    }
  }
  console.log(`load average after: ${loadAverage()}`);
} finally {
  await writer.end();
  await admin.query('DROP DATABASE IF EXISTS bench_catch_up WITH (FORCE)');
  await admin.end();
  await embedded.stop();
}
