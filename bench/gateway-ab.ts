/**
 * Gateway CPU per request, in-process, for A/B comparisons of two source trees
 * on a shared machine (issue 15). This tree's gateway, optionally another
 * tree's (--before, e.g. a `git archive` of the base commit with its own
 * `npx tsc -p tsconfig.build.json` run and node_modules linked), and the
 * baseline (the same recorded SQL through pg, rows JSON.stringify'd) are
 * loaded into this one process and answer the trips benchmark's "latest"
 * query in alternating batches; process.cpuUsage() over each batch is divided
 * by its requests.
 *
 *   npx tsx bench/gateway-ab.ts --before /tmp/base         # 40 batches × 200 requests each, 4 in flight
 *   npx tsx bench/gateway-ab.ts --batches 60 --requests 300
 *   npx tsx bench/gateway-ab.ts --floor --before /tmp/base # `{ __typename }`: the fixed cost of a request
 *                                                          # (baseline: the same answer's JSON, no statement)
 *
 * Requests go through `gateway.fetch` (no sockets): the loopback TCP time that
 * dominates the noise of bench/gateway-cpu.ts is left out, and so is node:http's
 * own work, which both servers do alike. The gateways run from dist/ (tsc's
 * output, as the trips benchmark runs them). Report the paired differences
 * (gateway − baseline, gateway − before), not the absolute figures.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type * as AppModule from '../src/app.js';
import type * as ConfigModule from '../src/config/env.js';
import type * as LoggerModule from '../src/logger.js';
import { loadConfig } from '../src/config/env.js';
import { createPool } from '../src/db/pool.js';
import { silentLogger } from '../src/logger.js';
import { startBenchDatabase } from './support/bench-database.js';
import { buildGateway } from './support/production-build.js';
import { loadAverage, machineNotes } from './support/report.js';
import {
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
    requests: { type: 'string', default: '200' },
    batches: { type: 'string', default: '40' },
    concurrency: { type: 'string', default: '4' },
    before: { type: 'string' },
    floor: { type: 'boolean', default: false },
  },
});
const requests = positiveInt('requests', values.requests);
const batches = positiveInt('batches', values.batches);
const concurrency = positiveInt('concurrency', values.concurrency);

interface Target {
  name: string;
  send: () => Promise<string>;
  us: number[];
}

async function loadTree(root: string) {
  const load = async <Module>(file: string) =>
    (await import(new URL(`file://${path.join(root, 'dist', file)}`).href)) as Module;
  return {
    ...(await load<typeof AppModule>('app.js')),
    ...(await load<typeof ConfigModule>('config/env.js')),
    ...(await load<typeof LoggerModule>('logger.js')),
  };
}

async function batch(target: Target, total: number): Promise<number> {
  const started = process.cpuUsage();
  let next = 0;
  const client = async () => {
    while (next < total) {
      next += 1;
      await target.send();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const used = process.cpuUsage(started);
  return (used.user + used.system) / total;
}

const database = await startBenchDatabase({ name: 'gateway-cpu' });
const closers: (() => Promise<void>)[] = [];
try {
  console.log(machineNotes());
  const log = (line: string) => console.log(line);
  await prepareTripsTable(database.pool, positiveInt('rows', values.rows), log);
  await buildGateway(log);
  const env = {
    ...uncachedGatewayEnv(database.connectionString),
  };

  const targets: Target[] = [];
  const trees: [string, string][] = [['gateway', path.resolve('.')]];
  if (values.before) trees.push(['before', path.resolve(values.before)]);
  for (const [name, root] of trees) {
    const tree = await loadTree(root);
    const config = tree.loadConfig(env);
    if (!config.database) throw new Error('no database in the benchmark configuration');
    const app = tree.createApp({ config: { ...config, database: config.database }, logger: tree.createLogger('warn') });
    closers.push(() => app.close());
    await app.initialised;
    const init = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: values.floor ? '{ __typename }' : LATEST_QUERY }),
    };
    targets.push({
      name,
      us: [],
      send: async () => {
        const response = await app.gateway.fetch('http://localhost/graphql', init);
        if (response.status !== 200) throw new Error(`${name} answered ${response.status}`);
        return response.text();
      },
    });
  }

  // The baseline: what the gateway's data layer sends for the page, through pg, as JSON.
  const config = loadConfig(env);
  if (!config.database) throw new Error('no database in the benchmark configuration');
  const statements = await recordLatestStatements(database.pool, config);
  const pool = createPool(
    { ...config.database, applicationName: 'bench-baseline' },
    {
      logger: silentLogger,
      typeParsers: 'pg',
    },
  );
  closers.push(() => pool.end());
  targets.push({
    name: 'baseline',
    us: [],
    send: async () => {
      if (values.floor) return JSON.stringify({ data: { __typename: 'Query' } });
      const results: unknown[][] = [];
      for (const statement of statements)
        results.push((await pool.query(statement.sql, [...statement.parameters])).rows);
      return JSON.stringify({ data: results });
    },
  });

  // Every gateway must answer the same page, or the comparison means nothing.
  const answers = await Promise.all(targets.filter((t) => t.name !== 'baseline').map((t) => t.send()));
  if (new Set(answers).size !== 1) throw new Error('the gateways answer differently');

  for (const target of targets) await batch(target, requests * 5);
  for (let index = 0; index < batches; index += 1) {
    // Alternate the order, so a busy spell on the shared machine falls on each alike.
    for (const target of index % 2 ? [...targets].reverse() : targets) target.us.push(await batch(target, requests));
  }

  const byName = (name: string) => targets.find((target) => target.name === name);
  const paired = (a: Target, b: Target) => median(a.us.map((us, index) => us - b.us[index]!));
  const baseline = byName('baseline')!;
  console.log(
    `\n${batches} batches × ${requests} requests, ${concurrency} in flight; CPU µs per request (this process)`,
  );
  for (const target of targets) {
    console.log(
      `  ${target.name.padEnd(9)} median ${median(target.us).toFixed(0).padStart(5)} µs` +
        (target === baseline ? '' : `   − baseline, batch by batch: median ${paired(target, baseline).toFixed(0)} µs`),
    );
  }
  const before = byName('before');
  if (before)
    console.log(`  gateway − before, batch by batch: median ${paired(byName('gateway')!, before).toFixed(0)} µs`);
  console.log(`Load average now ${loadAverage()}.`);
} finally {
  for (const close of closers.reverse()) await close();
  await database.stop();
}
// The apps' background timers (live feeds, pool idle timers) would keep the process alive a while.
process.exit(process.exitCode ?? 0);
