/**
 * What one request at a time costs, layer by layer (issue 15): a client in its
 * own process sends a GraphQL body sequentially over keep-alive to four
 * servers in this process, in alternating rounds:
 *
 *   bare     node:http: read and parse the JSON body, write a fixed answer
 *   adapter  @whatwg-node/server's adapter (yoga's HTTP layer) with a handler that answers at once
 *   yoga     createYoga with a one-field schema and yoga's defaults
 *   gateway  the gateway (production build, response cache off) over the aggregates benchmark's database
 *
 * Prints the client's p50 and this process's CPU per request (process.cpuUsage,
 * all threads). `bare`, `adapter` and `yoga` answer `{ __typename }` whatever
 * the body says; with --query, only the gateway's figure is for that query.
 *
 *   npx tsx bench/sequential-layers.ts [--requests 20000] [--warmup 500] [--rounds 2]
 *        [--modes bare,adapter,yoga,gateway] [--query '{ __typename }'] [--rows 1000000]
 *
 * The gateway mode needs .data/bench-pg (run `npm run bench -- aggregates --rows <rows>` once first).
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createServerAdapter, Response } from '@whatwg-node/server';
import { createSchema, createYoga } from 'graphql-yoga';
import { positiveInt } from './support/latest-page-harness.js';
import { startInProcessGateway } from './support/in-process-gateway.js';
import { loadAverage } from './support/report.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '500' },
    rounds: { type: 'string', default: '2' },
    modes: { type: 'string', default: 'bare,adapter,yoga,gateway' },
    query: { type: 'string', default: '{ __typename }' },
    rows: { type: 'string', default: '1000000' },
  },
});
const requests = positiveInt('requests', values.requests);
const warmup = positiveInt('warmup', values.warmup, 0);
const rounds = positiveInt('rounds', values.rounds);
const MODES = ['bare', 'adapter', 'yoga', 'gateway'] as const;
type Mode = (typeof MODES)[number];
const modes = values.modes.split(',').map((mode) => {
  if (!(MODES as readonly string[]).includes(mode))
    throw new Error(`--modes: unknown mode "${mode}" (${MODES.join(', ')})`);
  return mode as Mode;
});
const body = JSON.stringify({ query: values.query });
const ANSWER = JSON.stringify({ data: { __typename: 'Query' } });

const gateway = modes.includes('gateway') ? await startInProcessGateway(positiveInt('rows', values.rows)) : undefined;

function handlerOf(mode: Mode): http.RequestListener {
  switch (mode) {
    case 'bare':
      return (request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          JSON.parse(Buffer.concat(chunks).toString());
          response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ANSWER) });
          response.end(ANSWER);
        });
      };
    case 'adapter':
      return createServerAdapter(async (request: Request) => {
        await request.json();
        return new Response(ANSWER, { headers: { 'content-type': 'application/json' } });
      });
    case 'yoga':
      return createYoga({ schema: createSchema({ typeDefs: 'type Query { x: Int }' }), logging: false });
    case 'gateway':
      return gateway!.app.gateway;
  }
}

function ask<T>(child: ChildProcess, message: object): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (answer) => resolve(answer as T));
    child.once('exit', (code) => reject(new Error(`the client exited with code ${code}`)));
    child.send(message);
  });
}

async function measure(mode: Mode): Promise<{ p50: number; cpu: number }> {
  const server = http.createServer(handlerOf(mode));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  const child = fork(new URL('./support/sequential-client.ts', import.meta.url), [url, body], {
    execArgv: ['--import', 'tsx'],
  });
  try {
    await ask(child, { warmup });
    const before = process.cpuUsage();
    const { p50 } = await ask<{ p50: number }>(child, { timed: requests });
    const used = process.cpuUsage(before);
    return { p50, cpu: Math.round((used.user + used.system) / requests) };
  } finally {
    child.kill();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

console.log(
  `sequential-layers: ${rounds} rounds × ${requests} sequential requests per server (after ${warmup}); ` +
    `query ${values.query}; load average ${loadAverage()}`,
);
const results: Record<string, { p50: number[]; cpu: number[] }> = {};
try {
  for (let round = 1; round <= rounds; round += 1) {
    for (const mode of modes) {
      const { p50, cpu } = await measure(mode);
      (results[mode] ??= { p50: [], cpu: [] }).p50.push(p50);
      results[mode].cpu.push(cpu);
      console.log(`  round ${round} ${mode.padEnd(8)} client p50 ${p50} µs, server CPU ${cpu} µs per request`);
    }
  }
} finally {
  await gateway?.close();
}
console.log('| server | client p50 (µs, by round) | server CPU per request (µs, by round) |\n|---|---|---|');
for (const mode of modes) {
  const { p50, cpu } = results[mode]!;
  console.log(`| ${mode} | ${p50.join(', ')} | ${cpu.join(', ')} |`);
}
console.log(`load average after: ${loadAverage()}`);
