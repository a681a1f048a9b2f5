/**
 * What one wait inside a resolver costs the gateway (issue 15): the same
 * tripGroups request (the aggregates benchmark's zip-all, first: 1) answered
 * four ways in one process, in alternating batches, CPU time per request from
 * process.cpuUsage(), paired by batch:
 *
 *   gateway         the request through gateway.fetch (yoga, envelop, plugins)
 *   direct          the same document run by graphql-jit on the gateway's schema
 *                   and services, then JSON.stringify: no yoga
 *   … at once       the rollup answer replaced by a stored result, returned at once
 *   … after a timer the same, returned after one setTimeout(0): the process idles
 *                   about 1 ms, as it does while a statement is in flight
 *   … after immediates  returned after 1.1 ms of setImmediate turns: as many
 *                   event-loop turns as the machine makes in that time, no idling
 *   … after a spin  returned after 1.1 ms of busy waiting: neither
 *
 * So "gateway after a timer − gateway at once" against "direct after a timer −
 * direct at once" is what one wait costs inside yoga's pipeline and outside it,
 * and the immediates and the spin tell event-loop turns from idling apart: the
 * spin and the immediates add the same CPU to both paths, so gateway − direct
 * moves only with what differs. The real statement is there to compare with.
 *
 *   npx tsx bench/await-cost.ts [--batches 8] [--requests 200] [--warmup 800] [--rows 1000000]
 *
 * Needs the aggregates benchmark's database (.data/bench-pg, bench_<rows>): run
 * `npm run bench -- aggregates --rows <rows>` once first. The gateway runs from
 * its production build (dist/), as the other benchmarks run it.
 */
import { parseArgs } from 'node:util';
import { parse } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { BENCH_QUERIES } from './aggregate-queries.js';
import { median, positiveInt } from './support/latest-page-harness.js';
import { startInProcessGateway } from './support/in-process-gateway.js';
import { loadAverage } from './support/report.js';

const { values } = parseArgs({
  options: {
    batches: { type: 'string', default: '8' },
    requests: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '800' },
    rows: { type: 'string', default: '1000000' },
  },
});
const batches = positiveInt('batches', values.batches);
const requests = positiveInt('requests', values.requests);
const warmup = positiveInt('warmup', values.warmup, 0);
const rows = positiveInt('rows', values.rows);

const zipAll = BENCH_QUERIES.find((candidate) => candidate.name === 'zip-all')!;
const document = zipAll.graphql.replace('first: 300', 'first: 1');

const { app, modules, close } = await startInProcessGateway(rows);
const { buildSchema } = modules;
try {
  // The rollup answer, replaceable: the real statement, or a result stored from it (at once or after a timer).
  type Answer = typeof app.rollups.answer;
  const realAnswer: Answer = app.rollups.answer.bind(app.rollups);
  let stored: unknown;
  let mode: 'real' | 'at once' | 'after a timer' | 'after immediates' | 'after a spin' = 'real';
  app.rollups.answer = (async (needs, fresh, compute) => {
    if (mode === 'real' || stored === undefined) return (stored = await realAnswer(needs, fresh, compute));
    if (mode === 'after a timer') await new Promise((resolve) => setTimeout(resolve, 0));
    if (mode === 'after immediates') {
      const until = performance.now() + 1.1;
      while (performance.now() < until) await new Promise((resolve) => setImmediate(resolve));
    }
    if (mode === 'after a spin') {
      const until = performance.now() + 1.1;
      while (performance.now() < until);
    }
    return stored;
  }) as Answer;

  const body = JSON.stringify({ query: document });
  const gateway = async () => {
    const response = await app.gateway.fetch('http://bench/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const text = await response.text();
    if (!text.startsWith('{"data":{"tripGroups":[{')) throw new Error(`unexpected answer: ${text.slice(0, 200)}`);
    return text;
  };
  const compiled = compileQuery(buildSchema(), parse(document));
  if (!isCompiledQuery(compiled)) throw new Error('graphql-jit could not compile the document');
  // A context per request, as the gateway builds one (the aggregate code caches per context).
  const direct = async () => JSON.stringify(await compiled.query(undefined, { ...app.services }, {}));
  const as = (run: () => Promise<string>, how: typeof mode) => async () => {
    mode = how;
    try {
      return await run();
    } finally {
      mode = 'real';
    }
  };
  const targets: [string, () => Promise<string>][] = [
    ['gateway', gateway],
    ['direct', direct],
    ['gateway at once', as(gateway, 'at once')],
    ['direct at once', as(direct, 'at once')],
    ['gateway after a timer', as(gateway, 'after a timer')],
    ['direct after a timer', as(direct, 'after a timer')],
    ['gateway after immediates', as(gateway, 'after immediates')],
    ['direct after immediates', as(direct, 'after immediates')],
    ['gateway after a spin', as(gateway, 'after a spin')],
    ['direct after a spin', as(direct, 'after a spin')],
  ];
  const cpu = new Map(targets.map(([name]) => [name, [] as number[]]));
  for (let index = 0; index < warmup; index += 1) for (const [, run] of targets) await run();
  console.log(`load average before: ${loadAverage()}; ${batches} batches × ${requests} requests per path`);
  for (let batch = 0; batch < batches; batch += 1) {
    for (const [name, run] of batch % 2 ? [...targets].reverse() : targets) {
      const started = process.cpuUsage();
      for (let index = 0; index < requests; index += 1) await run();
      const used = process.cpuUsage(started);
      cpu.get(name)!.push((used.user + used.system) / requests);
    }
  }
  const paired = (a: string, b: string) => median(cpu.get(a)!.map((us, index) => us - cpu.get(b)![index]!));
  console.log('| path | CPU per request (median) |\n|---|---|');
  for (const [name] of targets) console.log(`| ${name} | ${median(cpu.get(name)!).toFixed(0)} µs |`);
  console.log(
    `paired: gateway − direct ${paired('gateway', 'direct').toFixed(0)} µs (the real statement), ` +
      `${paired('gateway at once', 'direct at once').toFixed(0)} µs (answered at once); ` +
      `one timer wait adds ${paired('gateway after a timer', 'gateway at once').toFixed(0)} µs through the gateway, ` +
      `${paired('direct after a timer', 'direct at once').toFixed(0)} µs called directly`,
  );
  const waits = ['at once', 'after a timer', 'after immediates', 'after a spin'] as const;
  console.log(
    `gateway − direct: ${waits.map((how) => `${how} ${paired(`gateway ${how}`, `direct ${how}`).toFixed(0)} µs`).join(', ')}`,
  );
  console.log(`load average after: ${loadAverage()}`);
} finally {
  await close();
}
