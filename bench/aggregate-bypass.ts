/**
 * How close to the statement can a GraphQL answer get on this machine? (issue 15)
 *
 * The uncached aggregate goal is "at most +0.3 ms p50 over the same statement
 * through pg". This harness measures the gateway against that baseline and
 * against the least a GraphQL server could do for the same answer: a bare
 * `node:http` handler that parses the body, runs the operation compiled by
 * graphql-jit over the gateway's own schema and services (the same data
 * layer, rollups and statements), and writes `JSON.stringify` of the result.
 * That bypass has no yoga, no envelop and none of the gateway's plugins (no
 * limits, CORS, error masking, metrics, access log or response cache): it is
 * an upper bound on what leaving yoga's request pipeline could gain, not a
 * server to run.
 *
 * Three servers in this process (the gateway from its production build, the
 * bypass, and the baseline replaying the gateway's own statements through
 * pg.Pool + JSON.stringify); one client process per server sends one request
 * at a time over keep-alive. Rounds of --requests consecutive requests per
 * server alternate their order; each figure is the median over rounds of the
 * round's p50 difference to the baseline (paired), which holds on a shared
 * machine better than separate runs do. The bypass's answer is checked equal
 * to the gateway's, byte for byte, before timing.
 *
 *   npx tsx bench/aggregate-bypass.ts [--queries fare-range-stats,zip-all,daily-month-ny]
 *        [--requests 1500] [--rounds 6] [--warmup 1000] [--rows 1000000]
 *
 * Needs the aggregates benchmark's database (.data/bench-pg, bench_<rows>): run
 * `npm run bench -- aggregates --rows <rows>` once first.
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { parse } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery as CompiledGraphQL } from 'graphql-jit';
import type { CompiledQuery } from 'kysely';
import pg from 'pg';
import { BENCH_QUERIES } from './aggregate-queries.js';
import { median, positiveInt } from './support/latest-page-harness.js';
import { startInProcessGateway } from './support/in-process-gateway.js';
import { loadAverage } from './support/report.js';

const { values } = parseArgs({
  options: {
    queries: { type: 'string', default: 'fare-range-stats,zip-all,daily-month-ny' },
    requests: { type: 'string', default: '1500' },
    rounds: { type: 'string', default: '6' },
    warmup: { type: 'string', default: '1000' },
    rows: { type: 'string', default: '1000000' },
  },
});
const requests = positiveInt('requests', values.requests);
const rounds = positiveInt('rounds', values.rounds);
const warmup = positiveInt('warmup', values.warmup, 0);
const queries = values.queries.split(',').map((name) => {
  const query = BENCH_QUERIES.find((candidate) => candidate.name === name);
  if (!query)
    throw new Error(`--queries: no benchmark query "${name}" (${BENCH_QUERIES.map((q) => q.name).join(', ')})`);
  return query;
});

let captured: { sql: string; parameters: readonly unknown[] }[] | null = null;
const gateway = await startInProcessGateway(positiveInt('rows', values.rows), (statement: CompiledQuery) =>
  captured?.push({ sql: statement.sql, parameters: statement.parameters }),
);
const { services } = gateway.app;
const schema = gateway.modules.buildSchema();
const pool = new pg.Pool({ connectionString: gateway.url, max: 4 });

/** The bypass: one compiled operation per query text, compiled on first use. */
const compiled = new Map<string, CompiledGraphQL['query']>();
function compiledFor(text: string): CompiledGraphQL['query'] {
  let query = compiled.get(text);
  if (!query) {
    const outcome = compileQuery(schema, parse(text));
    if (!isCompiledQuery(outcome)) throw new Error(`graphql-jit cannot compile ${text}`);
    query = outcome.query;
    compiled.set(text, query);
  }
  return query;
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString()));
    request.on('error', reject);
  });
}

function sendJson(response: http.ServerResponse, body: string): void {
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

let baselineStatements: { sql: string; parameters: readonly unknown[] }[] = [];
const handlers: Record<'gateway' | 'bypass' | 'pg', http.RequestListener> = {
  gateway: gateway.app.gateway,
  bypass: (request, response) => {
    void readBody(request).then(async (text) => {
      const params = JSON.parse(text) as { query: string; variables?: Record<string, unknown> };
      const context = gateway.modules.gatewayContext(
        services,
        new Request('http://127.0.0.1/graphql', { method: 'POST' }),
        'bypass',
      );
      sendJson(response, JSON.stringify(await compiledFor(params.query)(undefined, context, params.variables ?? {})));
    });
  },
  pg: (request, response) => {
    void readBody(request).then(async () => {
      let rows: unknown[] = [];
      for (const statement of baselineStatements)
        rows = (await pool.query(statement.sql, [...statement.parameters])).rows;
      sendJson(response, JSON.stringify({ data: rows }));
    });
  },
};
type Target = keyof typeof handlers;
const targets = Object.keys(handlers) as Target[];

const servers: http.Server[] = [];
const urls = {} as Record<Target, string>;
for (const target of targets) {
  const server = http.createServer(handlers[target]);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  urls[target] = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
}

function ask<T>(child: ChildProcess, message: object): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (answer) => resolve(answer as T));
    child.once('exit', (code) => reject(new Error(`the client exited with code ${code}`)));
    child.send(message);
  });
}

/** A client process for one server; it closes its connection after a timed batch, so each batch gets a new one. */
async function client(target: Target, body: string, warm: number): Promise<ChildProcess> {
  const child = fork(new URL('./support/sequential-client.ts', import.meta.url), [urls[target], body], {
    execArgv: ['--import', 'tsx'],
  });
  await ask(child, { warmup: warm });
  return child;
}

async function post(target: Target, body: string): Promise<string> {
  const response = await fetch(urls[target], { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return response.text();
}

console.log(
  `aggregate-bypass: ${rounds} rounds × ${requests} sequential requests per server (after ${warmup}); ` +
    `load average ${loadAverage()}`,
);
const table: string[] = [];
try {
  for (const query of queries) {
    const body = JSON.stringify({ query: query.graphql });
    // The baseline replays what the gateway sent for its second request (the first may also build state).
    await post('gateway', body);
    captured = [];
    const gatewayAnswer = await post('gateway', body);
    baselineStatements = captured;
    captured = null;
    const bypassAnswer = await post('bypass', body);
    if (bypassAnswer !== gatewayAnswer)
      throw new Error(
        `${query.name}: the bypass answered ${bypassAnswer.slice(0, 200)}, the gateway ${gatewayAnswer.slice(0, 200)}`,
      );

    const p50 = { gateway: [] as number[], bypass: [] as number[], pg: [] as number[] };
    for (let round = 0; round < rounds; round += 1) {
      for (const target of round % 2 ? [...targets].reverse() : targets) {
        const child = await client(target, body, round === 0 ? warmup : 50);
        try {
          p50[target].push((await ask<{ p50: number }>(child, { timed: requests })).p50);
        } finally {
          child.kill();
        }
      }
    }
    const added = (target: Target) => median(p50[target].map((value, index) => value - p50.pg[index]!)) / 1000;
    const ms = (target: Target) => (median(p50[target]) / 1000).toFixed(2);
    const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(2)}`;
    const line =
      `| ${query.name} | ${baselineStatements.length} | ${ms('pg')} | ${ms('gateway')} | ${ms('bypass')} | ` +
      `${signed(added('gateway'))} | ${signed(added('bypass'))} |`;
    console.log(`  ${query.name}: p50 by round (µs) ${JSON.stringify(p50)}`);
    table.push(line);
  }
} finally {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  await pool.end();
  await gateway.close();
}
console.log(
  '| query | statements | same SQL via pg p50 ms | gateway p50 ms | bypass p50 ms | gateway − pg (paired) ms | bypass − pg (paired) ms |',
);
console.log('|---|---|---|---|---|---|---|');
for (const line of table) console.log(line);
console.log(`load average after: ${loadAverage()}`);
