/**
 * What the two A/B CPU harnesses (gateway-cpu.ts over HTTP, gateway-ab.ts
 * in-process) share: the trips benchmark's "latest" page, the table it reads
 * (loaded and indexed once), the uncached gateway's environment, and their
 * small numeric helpers, and the statements the baseline replays.
 */
import type pg from 'pg';
import type { Config } from '../../src/config/env.js';
import { createDb } from '../../src/db/database.js';
import { qualified } from '../../src/db/sql-identifiers.js';
import { BENCH_SCHEMA, BENCH_TABLE, ensureSyntheticTrips } from './bench-database.js';
import { recordStatements, type RecordedStatement } from './sql-recorder.js';
import { ensureTripIndexes } from './trip-indexes.js';
import { loadTripConnection } from '../../src/trips/connection.js';

/** The trips benchmark's "latest" case. */
export const LATEST_QUERY =
  '{ trips(first: 100, orderBy: [PICKUP_AT_DESC]) { edges { node { tripId pickupAt dropoffAt tripDistance fareAmount pickupZip dropoffZip } } pageInfo { hasNextPage endCursor } } }';

export function positiveInt(name: string, raw: string | undefined, min = 1): number {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min)
    throw new Error(`--${name}: expected an integer ≥ ${min}, got ${raw}`);
  return value;
}

export function median(list: readonly number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The synced table with `rows` synthetic trips (seed 2016, as the trips benchmark) and its indexes. */
export async function prepareTripsTable(pool: pg.Pool, rows: number, log: (line: string) => void): Promise<void> {
  await ensureSyntheticTrips(pool, { rows, seed: 2016, log });
  if ((await ensureTripIndexes(pool, BENCH_SCHEMA, BENCH_TABLE)).length) {
    await pool.query(`ANALYZE ${qualified(BENCH_SCHEMA, BENCH_TABLE)}`);
  }
}

/** The gateway as the trips benchmark's uncached contestant runs it. */
export function uncachedGatewayEnv(databaseUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    PG_POOL_MAX: '10',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    ROLLUP_POLL_MS: '0',
    RESPONSE_CACHE: 'off',
  };
}

/** The statements the gateway sends for the latest page (with its next-page flag): the baseline replays them. */
/** The trips benchmark's "filtered" case: the same page with a ZIP and a fare range. */
export const FILTERED_QUERY = LATEST_QUERY.replace(
  'orderBy: [PICKUP_AT_DESC]',
  'orderBy: [PICKUP_AT_DESC], filter: { pickupZip: { eq: 10001 }, fareAmount: { gte: 10, lte: 30 } }',
);

/** The statements the gateway sends for LATEST_QUERY, or for FILTERED_QUERY with `filtered`. */
export async function recordLatestStatements(
  pool: pg.Pool,
  config: Config,
  filtered = false,
): Promise<RecordedStatement[]> {
  if (!config.database) throw new Error('no database in the benchmark configuration');
  const args = {
    first: 100,
    orderBy: ['PICKUP_AT_DESC' as const],
    ...(filtered ? { filter: { pickupZip: { eq: 10001 }, fareAmount: { gte: 10, lte: 30 } } } : {}),
  };
  const { statements } = await recordStatements(createDb(pool, config.database), async (recording) => {
    const connection = await loadTripConnection(recording, args, config.limits);
    await connection.pageInfo.hasNextPage();
  });
  return statements;
}
