/**
 * Child-process entry: the baseline the gateway is measured against. The same
 * SQL statements the gateway sends (text and parameters, recorded by
 * sql-recorder.ts), run through `pg` on a pool configured like the gateway's
 * (src/db/pool.ts, same environment), behind a minimal node:http endpoint that
 * answers the rows as JSON. No GraphQL, no query builder, no framework.
 *
 * Env: DATABASE_URL, PG_POOL_MAX like the gateway; BASELINE_ROUTES, a JSON
 * object mapping a path ("/latest") to the statements one request runs.
 */
import { createServer } from 'node:http';
import { loadConfig } from '../../src/config/env.js';
import { createPool } from '../../src/db/pool.js';
import { createLogger } from '../../src/logger.js';
import { announceReady, exitOnSignal } from './child-server.js';
import type { RecordedStatement } from './sql-recorder.js';

// Started with the gateway's V8 flags (child-server.ts), so both run under the same runtime.
const config = loadConfig();
if (!config.database) throw new Error('baseline-server: set DATABASE_URL (the benchmark passes it)');
const routesJson = process.env.BASELINE_ROUTES;
if (!routesJson) throw new Error('baseline-server: set BASELINE_ROUTES (path → statements, JSON)');
const routes = new Map(Object.entries(JSON.parse(routesJson) as Record<string, RecordedStatement[]>));
const pool = createPool(
  { ...config.database, applicationName: 'bench-baseline' },
  {
    logger: createLogger(config.logLevel),
    // Plain pg's type parsers: the baseline is the statement as a user of `pg` runs it.
    typeParsers: 'pg',
  },
);

const server = createServer((request, response) => {
  const statements = routes.get(request.url ?? '');
  if (!statements) {
    response.writeHead(404).end();
    return;
  }
  // Drain the request body (autocannon may send one) before answering.
  request.resume();
  void (async () => {
    try {
      const results: unknown[][] = [];
      for (const statement of statements) {
        results.push((await pool.query(statement.sql, [...statement.parameters])).rows);
      }
      const body = JSON.stringify({ data: results });
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      response.end(body);
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain' }).end((error as Error).message);
    }
  })();
});
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const address = server.address();
if (typeof address !== 'object' || !address) throw new Error('baseline-server: no address after listen');
exitOnSignal(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await pool.end();
});
announceReady(`http://127.0.0.1:${address.port}`);
