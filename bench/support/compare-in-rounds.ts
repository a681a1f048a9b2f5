/**
 * Measures several servers under the same load in alternating rounds
 * (A B, B A, A B, …), so that background load on a shared machine falls on
 * each of them alike instead of on whichever ran during a busy spell.
 */
import type pg from 'pg';
import type { ChildServer } from './child-server.js';
import { measure, warmUp, type LoadRequest } from './load.js';
import { readStatementStats, resetStatementStats } from './statement-stats.js';

export interface Target {
  name: string;
  server: ChildServer;
  request: LoadRequest;
}

export interface RoundOptions {
  connections: number;
  /** Seconds per target per round. */
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  /** Where to read pg_stat_statements, and for which table; omit to skip statement figures. */
  statements?: { pool: pg.Pool; table: string };
}

export interface TargetFigures {
  name: string;
  requests: number;
  requestsPerSecond: number;
  /** Median of the rounds' p50. */
  p50Ms: number;
  /** Worst of the rounds' p99. */
  p99Ms: number;
  failures: number;
  /** Server process CPU time (user + system) per request. */
  cpuMsPerRequest: number;
  statementsPerRequest: number;
  /** Postgres execution time per request, from pg_stat_statements. */
  dbMsPerRequest: number;
  /**
   * Distinct statements this target sent (pg_stat_statements queryid), over all rounds: those seen in at
   * least 5% of its requests. Requests still in flight when the previous target's load stopped finish in
   * this target's window; with several targets their statements would otherwise show up here too.
   */
  queryIds: string[];
  roundRequestsPerSecond: number[];
}

export async function compareInRounds(targets: readonly Target[], options: RoundOptions): Promise<TargetFigures[]> {
  for (const target of targets) await warmUp(target.request, options.connections, options.warmupSeconds);
  const figures = targets.map((target) => ({
    target,
    requests: 0,
    seconds: 0,
    p50s: [] as number[],
    p99s: [] as number[],
    failures: 0,
    cpuMs: 0,
    calls: 0,
    execMs: 0,
    callsById: new Map<string, number>(),
    roundRequestsPerSecond: [] as number[],
  }));
  for (let round = 0; round < options.rounds; round += 1) {
    const order = round % 2 === 0 ? figures : [...figures].reverse();
    for (const entry of order) {
      if (options.statements) await resetStatementStats(options.statements.pool);
      const cpuBefore = await entry.target.server.cpuMs();
      const load = await measure(entry.target.request, options.connections, options.durationSeconds);
      entry.cpuMs += (await entry.target.server.cpuMs()) - cpuBefore;
      entry.requests += load.requests;
      entry.seconds += load.seconds;
      entry.p50s.push(load.p50Ms);
      entry.p99s.push(load.p99Ms);
      entry.failures += load.failures;
      entry.roundRequestsPerSecond.push(load.requestsPerSecond);
      if (options.statements) {
        const stats = await readStatementStats(options.statements.pool, options.statements.table);
        entry.calls += stats.calls;
        entry.execMs += stats.execMs;
        for (const [id, calls] of stats.callsById) entry.callsById.set(id, (entry.callsById.get(id) ?? 0) + calls);
      }
    }
  }
  return figures.map((entry) => ({
    name: entry.target.name,
    requests: entry.requests,
    requestsPerSecond: entry.requests / entry.seconds,
    p50Ms: median(entry.p50s),
    p99Ms: Math.max(...entry.p99s),
    failures: entry.failures,
    cpuMsPerRequest: entry.cpuMs / entry.requests,
    statementsPerRequest: entry.calls / entry.requests,
    dbMsPerRequest: entry.execMs / entry.requests,
    queryIds: [...entry.callsById]
      .filter(([, calls]) => calls >= 0.05 * entry.requests)
      .map(([id]) => id)
      .sort(),
    roundRequestsPerSecond: entry.roundRequestsPerSecond,
  }));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
