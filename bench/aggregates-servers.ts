/**
 * Child process of bench/aggregates.ts: the gateway on an HTTP port, and a
 * minimal pg + node:http JSON endpoint that replays, per query, exactly the
 * statements the gateway sent for it (the "same SQL" baseline) or the
 * hand-written GROUP BY on the synced table (the "raw" baseline). Kept apart
 * from the load generator so autocannon does not share their event loop.
 */
import { createServer } from 'node:http';
import type { CompiledQuery } from 'kysely';
import pg from 'pg';
import { BENCH_QUERIES } from './aggregate-queries.js';
import { createApp, createLogger, listen, loadConfig, qualified } from './support/gateway-modules.js';

// Started with production's V8 flags (bench/aggregates.ts passes V8_FLAGS); the baseline shares this process.
// The measured gateway runs uncached (every request runs its statements); a second one, with the response
// cache on over the same database, serves the cached figures.
const loaded = loadConfig({ ...process.env, ROLLUP_POLL_MS: '0', LOG_LEVEL: 'warn', RESPONSE_CACHE: 'off' });
if (!loaded.database) throw new Error('aggregates-servers: DATABASE_URL is required');
const config = { ...loaded, database: loaded.database };
let capture: { sql: string; parameters: readonly unknown[] }[] | null = null;
const onQuery = (query: CompiledQuery) => capture?.push({ sql: query.sql, parameters: query.parameters });
const app = createApp({ config, logger: createLogger('warn'), onQuery });
await app.initialised;

const rollupsWanted = process.env.ROLLUPS !== 'off';
let rollupBuild: unknown = null;
if (rollupsWanted) {
  const started = performance.now();
  rollupBuild = { outcome: await app.rollups.refresh(), totalMs: Math.round(performance.now() - started) };
}

/**
 * What keeping the rollup up to date costs after a sync: BENCH_APPEND_ROWS new
 * trips (copies of the latest ones with new ids, a day later) are inserted,
 * as a TRIGGERED or CONTINUOUS sync would, and the rollup is brought up to
 * date by appending just those. The parent deletes them again at the end.
 */
let append: unknown = null;
const appendRows = Number(process.env.BENCH_APPEND_ROWS ?? 0);
if (rollupsWanted && appendRows > 0) {
  const writer = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await writer.connect();
  const synced = qualified(config.database.schema, config.database.table);
  const { rows } = await writer.query<{ max: string }>(`SELECT max(id)::text AS max FROM ${synced}`);
  const afterId = rows[0]!.max;
  await writer.query(
    `INSERT INTO ${synced}
     SELECT id + $1::int8, tpep_pickup_datetime + interval '1 day', tpep_dropoff_datetime + interval '1 day',
            trip_distance, fare_amount, pickup_zip, dropoff_zip
       FROM (SELECT * FROM ${synced} ORDER BY id DESC LIMIT $2) AS latest`,
    [afterId, appendRows],
  );
  await writer.end();
  const freshBefore = (await app.rollups.freshRollup()) !== null;
  const started = performance.now();
  const outcome = await app.rollups.refresh();
  append = {
    rows: appendRows,
    afterId,
    freshBefore,
    kind: outcome.status === 'built' ? outcome.build.kind : outcome.status,
    totalMs: Math.round(performance.now() - started),
    freshAfter: (await app.rollups.freshRollup()) !== null,
  };
}
const gateway = await listen(app.gateway, 0, '127.0.0.1');
const cachedApp = createApp({
  config: { ...config, responseCache: { ...config.responseCache, enabled: true } },
  logger: createLogger('warn'),
});
await cachedApp.initialised;
const cachedGateway = await listen(cachedApp.gateway, 0, '127.0.0.1');

/** Sends one query through the gateway, returning its data and the statements it ran (warm: the second run). */
async function captureStatements(graphql: string) {
  const send = async () => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: graphql }),
    });
    return (await response.json()) as { data?: unknown; errors?: unknown[] };
  };
  await send();
  capture = [];
  const body = await send();
  const statements = capture;
  capture = null;
  if (body.errors) throw new Error(`gateway error: ${JSON.stringify(body.errors)}`);
  return { data: body.data, statements };
}

const captured = new Map<string, Awaited<ReturnType<typeof captureStatements>>>();
const servedBefore = { ...app.rollups.served };
for (const query of BENCH_QUERIES) captured.set(query.name, await captureStatements(query.graphql));
const sources = {
  raw: (app.rollups.served.raw - servedBefore.raw) / 2,
  rollup: (app.rollups.served.rollup - servedBefore.rollup) / 2,
};

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: config.database.poolMax });
const trips = qualified(config.database.schema, config.database.table);
const zones = qualified(config.database.gatewaySchema, 'zip_zones');
const baseline = createServer((request, response) => {
  const [, kind, name] = (request.url ?? '').split('/');
  const query = BENCH_QUERIES.find((candidate) => candidate.name === name);
  request.resume();
  request.on('end', async () => {
    try {
      if (kind === 'floor') {
        // What a request costs with no database work: the HTTP floor the gateway's `{ __typename }` is compared with.
        const body = JSON.stringify({ data: { __typename: 'Query' } });
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        response.end(body);
        return;
      }
      if (!query) throw new Error(`no query ${name}`);
      let rows: unknown[] = [];
      if (kind === 'same') {
        for (const statement of captured.get(query.name)!.statements) {
          rows = (await pool.query(statement.sql, [...statement.parameters])).rows;
        }
      } else {
        rows = (await pool.query(query.rawSql.replace('$TRIPS', trips).replace('$ZONES', zones), query.rawParams ?? []))
          .rows;
      }
      const body = JSON.stringify({ data: rows });
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      response.end(body);
    } catch (error) {
      response.writeHead(500).end(String(error));
    }
  });
});
await new Promise<void>((resolve) => baseline.listen(0, '127.0.0.1', resolve));
const address = baseline.address();
const baselinePort = typeof address === 'object' && address ? address.port : 0;

process.stdout.write(
  `READY ${JSON.stringify({
    gateway: gateway.url,
    cached: cachedGateway.url,
    baseline: `http://127.0.0.1:${baselinePort}`,
    rollupBuild,
    append,
    sources,
    statements: Object.fromEntries([...captured].map(([name, c]) => [name, c.statements.map((s) => s.sql)])),
    answers: Object.fromEntries([...captured].map(([name, c]) => [name, c.data])),
  })}\n`,
);

process.on('SIGTERM', async () => {
  await gateway.close();
  await cachedGateway.close();
  await cachedApp.close();
  baseline.close();
  await pool.end();
  await app.close();
  process.exit(0);
});
