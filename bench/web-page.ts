/**
 * The dashboard's budgets, measured in headless Chromium against the gateway
 * over an embedded Postgres holding the development sample (21,932 trips):
 *
 * 1. First load to 100 rows visible (navigation start to the grid holding 100
 *    rows with row 0 drawn), cold (new browser profile) and warm (reload).
 *    Baselines in the same run: the browser loading the tiny /health JSON, and
 *    the page's first trips query sent from Node.
 * 2. JavaScript shipped: each built file, raw, gzip and brotli (as served).
 * 3. An idle tab's cost to the database: statements (pg_stat_statements calls)
 *    over an idle window with the tab open, against the same window with no tab.
 *
 * `npm run bench -- web-page [--runs 5] [--idle-seconds 20] [--live-poll-ms 1000]`
 */
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import type pg from 'pg';
import { loadSampleIfEmpty } from '../src/dev/load/sample-if-empty.js';
import { pipelineNames } from '../src/dev/pipeline/names.js';
import { seedLocalPipeline } from '../src/dev/pipeline/seed.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { ensureWebBuild } from '../src/dev/web-build.js';
import { silentLogger } from '../src/logger.js';
import { DEFAULT_WEB_DIR } from '../src/server/web-page.js';
import { launchBrowser } from '../test/support/browser.js';
import { startPipelineGateway } from '../test/support/pipeline-gateway.js';
import { BENCH_SCHEMA, BENCH_TABLE, startBenchDatabase } from './support/bench-database.js';

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}
const RUNS = option('runs', 5);
const IDLE_SECONDS = option('idle-seconds', 20);
/** The live feed's fallback poll while anyone subscribes (LIVE_POLL_INTERVAL_MS, default 1000). */
const LIVE_POLL_MS = option('live-poll-ms', 1000);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};
const ms = (values: number[]) =>
  `median ${median(values).toFixed(0)} ms (runs: ${values.map((v) => v.toFixed(0)).join(', ')})`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

async function firstLoad(browser: Browser, origin: string): Promise<void> {
  const phases: { scripts: number; stream: number; page: number }[] = [];
  const measure = async (reuse: boolean) => {
    const times: number[] = [];
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    try {
      for (let run = 0; run < RUNS; run += 1) {
        const page = await (reuse ? context.newPage() : (await browser.newContext()).newPage());
        if (reuse && run === 0) await page.goto(`${origin}/`); // fills the cache: not measured
        await page.goto(`${origin}/`);
        const visible = await page.waitForFunction(
          () =>
            document.querySelector('[data-testid=trips-grid][data-rows="100"]') !== null &&
            document.querySelector('[row-index="0"]') !== null
              ? performance.now()
              : false,
          null,
          { polling: 'raf', timeout: 30_000 },
        );
        times.push((await visible.jsonValue()) as number);
        phases.push(
          // A string, not a function: tsx would wrap a named arrow function in a helper the page lacks.
          (await page.evaluate(`(() => {
            const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
            const nav = performance.getEntriesByType('navigation')[0];
            return { scripts: nav.domContentLoadedEventEnd, stream: at('trips:stream-started'), page: at('trips:first-page') };
          })()`)) as { scripts: number; stream: number; page: number },
        );
        await (reuse ? page.close() : page.context().close());
      }
    } finally {
      await context.close();
    }
    return times;
  };
  const baseline: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${origin}/health`);
    baseline.push(await page.evaluate(() => performance.getEntriesByType('navigation')[0]!.duration));
    await context.close();
  }
  const query = `{ trips(first: 100, orderBy: [PICKUP_AT_DESC]) { totalCount edges { cursor node { id tripId pickupAt dropoffAt fareAmount tripDistance pickupZip dropoffZip pickupZone { zip borough } } } pageInfo { hasNextPage endCursor } } }`;
  const server: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    const response = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    await response.json();
    server.push(performance.now() - started);
  }
  console.log('\nFirst load to 100 rows visible (navigation start → grid holds 100 rows, row 0 drawn)');
  console.log(`  baseline: browser loads /health             ${ms(baseline)}`);
  console.log(`  baseline: first trips page query from Node  ${ms(server)}`);
  console.log(`  dashboard, cold (new profile)               ${ms(await measure(false))}`);
  console.log(`  dashboard, warm (cached assets)             ${ms(await measure(true))}`);
  console.log('  where it goes (medians over all runs, ms from navigation start):');
  console.log(`    scripts loaded and run (DOMContentLoaded)   ${median(phases.map((p) => p.scripts)).toFixed(0)}`);
  console.log(`    live stream started (first batch)           ${median(phases.map((p) => p.stream)).toFixed(0)}`);
  console.log(`    first trips page received                   ${median(phases.map((p) => p.page)).toFixed(0)}`);
}

async function javascriptSize(): Promise<void> {
  const assets = path.join(DEFAULT_WEB_DIR, 'assets');
  console.log('\nJavaScript shipped (web/dist/assets)');
  let initial = 0;
  let lazy = 0;
  for (const name of (await readdir(assets)).filter((file) => file.endsWith('.js')).sort()) {
    const body = await readFile(path.join(assets, name));
    const gzip = gzipSync(body, { level: 6 }).length;
    const brotli = brotliCompressSync(body).length;
    if (name.startsWith('index-')) initial += gzip;
    else lazy += gzip;
    console.log(
      `  ${name.padEnd(28)} raw ${kb(body.length).padStart(10)}  gzip ${kb(gzip).padStart(9)}  brotli ${kb(brotli).padStart(9)}`,
    );
  }
  console.log(`  gzip total: ${kb(initial)} before the table shows, ${kb(lazy)} loaded lazily (charts)`);
}

async function idleCost(browser: Browser, origin: string, pool: pg.Pool, statements: { total: number }): Promise<void> {
  const window = async () => {
    await pool.query('SELECT pg_stat_statements_reset()');
    const gatewayBefore = statements.total;
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    const { rows } = await pool.query<{ calls: string; query: string }>(
      `SELECT calls::text, query FROM pg_stat_statements
        WHERE query NOT ILIKE '%pg_stat_statements%' ORDER BY calls DESC`,
    );
    return {
      calls: rows.reduce((sum, row) => sum + Number(row.calls), 0),
      gateway: statements.total - gatewayBefore,
      top: rows.slice(0, 6).map((row) => `${row.calls} × ${row.query.replace(/\s+/g, ' ').slice(0, 90)}`),
    };
  };
  const show = (label: string, result: Awaited<ReturnType<typeof window>>) => {
    console.log(`  ${label}: ${result.calls} statements in the database, ${result.gateway} sent by request handlers`);
    for (const line of result.top) console.log(`      ${line}`);
  };
  console.log(`\nIdle cost to the database over ${IDLE_SECONDS} s (pg_stat_statements calls)`);
  show('baseline, no tab open', await window());
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  await page.locator('[data-testid=live-state][data-state=connected]').waitFor({ timeout: 30_000 });
  await page.locator('[data-testid=chart-hours] canvas').first().waitFor({ timeout: 30_000 });
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const requests: string[] = [];
  page.on('request', (request) => requests.push(`${request.method()} ${request.url()}`));
  show('one dashboard tab open, idle', await window());
  console.log(
    `  requests the tab sent while idle: ${requests.length}${requests.length ? ` (${requests.join(', ')})` : ''}`,
  );
  await page.close();
}

const started = Date.now();
console.log(
  `load average at start: ${os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}`,
);
await ensureWebBuild(DEFAULT_WEB_DIR, silentLogger, { required: true });
const database = await startBenchDatabase({ name: 'web', fresh: true });
// Shutdown ends the cluster under idle connections; their termination is expected here.
database.pool.on('error', () => {});
try {
  await ensureSyncedTable(database.pool, BENCH_SCHEMA, BENCH_TABLE);
  await loadSampleIfEmpty(database.pool, { schema: BENCH_SCHEMA, table: BENCH_TABLE });
  const names = pipelineNames({ syncedSchema: BENCH_SCHEMA, syncedTable: BENCH_TABLE });
  await seedLocalPipeline(database.pool, { names, policy: 'CONTINUOUS' });
  console.log(`LIVE_POLL_INTERVAL_MS=${LIVE_POLL_MS}`);
  // As `npm start` wires it: sync status from the emulated pipeline (SYNC_STATUS_CACHE_SECONDS default).
  const gateway = await startPipelineGateway({
    url: database.connectionString,
    pool: database.pool,
    names,
    env: { LIVE_POLL_INTERVAL_MS: String(LIVE_POLL_MS) },
  });
  const { app, origin } = gateway;
  const browser = await launchBrowser();
  try {
    await firstLoad(browser, origin);
    await javascriptSize();
    await idleCost(browser, origin, database.pool, app.statements);
  } finally {
    await browser.close();
    await gateway.close();
  }
} finally {
  await database.stop();
}
console.log(
  `\nload average at end: ${os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
);
