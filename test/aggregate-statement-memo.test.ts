import { sql, type CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRIP_DIMENSIONS, type TripDimension } from '../src/aggregates/dimensions.js';
import { TRIP_GROUP_ORDERS, type TripGroupOrder } from '../src/aggregates/group-order.js';
import {
  findTripGroups,
  findTripStats,
  findZoneStats,
  RAW,
  type AggregateSource,
  type StatementProof,
} from '../src/aggregates/queries.js';
import { GRAIN_NAMES, type Grain } from '../src/aggregates/rollup/grains.js';
import { chooseGrain, rollupNeeds } from '../src/aggregates/rollup/planner.js';
import { MEASURE_STATS, type MeasureStat } from '../src/aggregates/stats.js';
import type { PickupBin } from '../src/aggregates/time-zones.js';
import { createApp, type App } from '../src/app.js';
import { loadConfig, type DatabaseConfig } from '../src/config/env.js';
import { createDb, type Db } from '../src/db/database.js';
import { seededRandom, type Random } from '../src/dev/pipeline/random-trips.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { UserInputError } from '../src/errors.js';
import { createLogger } from '../src/logger.js';
import { parseTripFilter, type ParsedTripFilter } from '../src/trips/parse-filter.js';
import { insertAggregateTrips } from './support/aggregates-fixture.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { pick, randomFilter, shuffled } from './support/random-filters.js';

/**
 * The aggregate statements are memoized per request description
 * (db/statement-memo.ts): a key that missed anything deciding the statement
 * would hand one request another's statement. Random requests, each followed
 * by copies of it with one part drawn again (filter, source, measures,
 * dimensions, ordering, limit, zone, bin, side, ZIPs), run on one Db whose
 * memo fills up, and each also on a fresh Db (nothing memoized: built and
 * compiled by Kysely). The statements sent and the answers must be equal.
 */

type Case =
  | { kind: 'stats'; filter: ParsedTripFilter; source: AggregateSource; measures: Set<MeasureStat> }
  | {
      kind: 'groups';
      filter: ParsedTripFilter;
      source: AggregateSource;
      measures: Set<MeasureStat>;
      dimensions: TripDimension[];
      orderBy: TripGroupOrder[];
      first: number;
      timeZone: string;
      pickupBin: PickupBin | null;
    }
  | { kind: 'zones'; filter: ParsedTripFilter; source: AggregateSource; side: 'pickup' | 'dropoff'; zips: number[] };

/** Two proofs as RollupService makes them: the key tells apart what the text and parameters tell apart. */
function proof(signature: string): StatementProof {
  return { condition: sql`EXISTS (SELECT 1 WHERE ${signature}::text <> '')`, key: `test:${signature}` };
}
const PROOFS = [proof('a'), proof('b')];

function filters(count: number): ParsedTripFilter[] {
  const parsed: ParsedTripFilter[] = [parseTripFilter(undefined)];
  for (let seed = 1; parsed.length < count; seed += 1) {
    try {
      // A shared shape source for pairs of filters: equal structure, other values.
      parsed.push(parseTripFilter(randomFilter(seededRandom(Math.ceil(seed / 2)), seededRandom(seed))));
    } catch (error) {
      if (!(error instanceof UserInputError)) throw error;
    }
  }
  return parsed;
}

/** The raw table, or a rollup grain that has the columns (planner rules), with or without a proof. */
function randomSource(random: Random, needs: ReturnType<typeof rollupNeeds>): AggregateSource {
  const grains = needs ? GRAIN_NAMES.filter((grain) => chooseGrain(needs, { [grain]: 0 }) === grain) : [];
  if (grains.length === 0 || random() < 0.3) return RAW;
  const grain: Grain = pick(random, grains);
  const chosen = random();
  return chosen < 0.3 ? { kind: 'rollup', grain } : { kind: 'rollup', grain, proof: pick(random, PROOFS) };
}

const randomMeasures = (random: Random) => new Set(MEASURE_STATS.filter(() => random() < 0.4));

/** A rollup source the request's columns no longer allow falls back to the raw table (as the planner would). */
function compatible(request: Case): Case {
  if (request.source.kind === 'raw') return request;
  const needs =
    request.kind === 'groups'
      ? rollupNeeds(request.filter, request.dimensions, request.timeZone)
      : request.kind === 'zones'
        ? rollupNeeds(request.filter, [], 'UTC', request.side === 'pickup' ? 'pickup_zip' : 'dropoff_zip')
        : rollupNeeds(request.filter);
  const fits = needs !== null && chooseGrain(needs, { [request.source.grain]: 0 }) === request.source.grain;
  return fits ? request : { ...request, source: RAW };
}

/** `request` with one part drawn again (the others equal): a memo key must tell each part apart. */
function variants(random: Random, request: Case, pool: readonly ParsedTripFilter[]): Case[] {
  const other = randomCase(random, pool);
  const parts: Partial<Case>[] = [{ filter: other.filter }, { source: other.source }];
  if (request.kind === 'stats') parts.push({ measures: randomMeasures(random) });
  if (request.kind === 'zones' && other.kind === 'zones') parts.push({ side: other.side }, { zips: other.zips });
  if (request.kind === 'groups' && other.kind === 'groups') {
    parts.push(
      { measures: other.measures },
      { dimensions: other.dimensions },
      { orderBy: other.orderBy },
      { first: other.first === request.first ? other.first + 1 : other.first },
      { timeZone: other.timeZone },
      { pickupBin: other.pickupBin },
    );
  }
  return parts.map((part) => compatible({ ...request, ...part } as Case));
}

function randomCase(random: Random, pool: readonly ParsedTripFilter[]): Case {
  const filter = pick(random, pool);
  const kind = pick(random, ['stats', 'groups', 'groups', 'zones'] as const);
  if (kind === 'stats') {
    return { kind, filter, source: randomSource(random, rollupNeeds(filter)), measures: randomMeasures(random) };
  }
  if (kind === 'zones') {
    const side = pick(random, ['pickup', 'dropoff'] as const);
    const zips = shuffled(random, [10001, 11430, 10019, 99999]).slice(0, 1 + Math.floor(random() * 3));
    const needs = rollupNeeds(filter, [], 'UTC', side === 'pickup' ? 'pickup_zip' : 'dropoff_zip');
    return { kind, filter, source: randomSource(random, needs), side, zips };
  }
  const dimensions = shuffled(random, TRIP_DIMENSIONS).slice(0, 1 + Math.floor(random() * 2));
  const timeZone = pick(random, ['UTC', 'America/New_York']);
  return {
    kind,
    filter,
    source: randomSource(random, rollupNeeds(filter, dimensions, timeZone)),
    measures: randomMeasures(random),
    dimensions,
    orderBy: shuffled(random, TRIP_GROUP_ORDERS).slice(0, Math.floor(random() * 2)),
    first: pick(random, [5, 50]),
    timeZone,
    pickupBin: pick(random, [null, 'hour', 'quarter-hour'] as const),
  };
}

/** The answer, or the error's message: both Dbs must fail alike on a statement Postgres refuses. */
async function answer(db: Db, request: Case): Promise<unknown> {
  try {
    switch (request.kind) {
      case 'stats':
        return await findTripStats(db, request.filter, request.source, request.measures);
      case 'zones':
        return [...(await findZoneStats(db, request.side, request.filter, request.zips, request.source)).value];
      case 'groups':
        return await findTripGroups(db, request, request.source);
    }
  } catch (error) {
    return { error: (error as Error).message };
  }
}

describe('memoized aggregate statements', () => {
  let database: TestDatabase;
  let config: DatabaseConfig;
  let app: App;
  const sent: { warm: CompiledQuery[]; fresh: CompiledQuery[] } = { warm: [], fresh: [] };
  let warm: Db;
  let compiles = 0;

  beforeAll(async () => {
    database = await createTestDatabase('aggregate_memo');
    await ensureSyncedTable(database.pool, 'default', 'trips_synced');
    await insertAggregateTrips(database.pool, 400);
    const loaded = loadConfig({ DATABASE_URL: database.url, ROLLUP_POLL_MS: '0' });
    config = loaded.database!;
    // The app installs the ZIP reference table and the rollup the rollup sources read.
    app = createApp({ config: { ...loaded, database: config }, logger: createLogger('error') });
    await app.initialised;
    await app.rollups.refresh();
    warm = createDb(database.pool, config, undefined, (query) => sent.warm.push(query));
    // Counts the statements Kysely compiles for the memoizing Db (a memo hit compiles nothing).
    const executor = warm.getExecutor();
    const compile = executor.compileQuery.bind(executor);
    executor.compileQuery = (node, queryId) => {
      compiles += 1;
      return compile(node, queryId);
    };
  });
  afterAll(async () => {
    await app?.close();
    await database?.drop();
  });

  it('sends what Kysely compiles for the same request, and compiles a repeated request once', async () => {
    const random = seededRandom(20261202);
    const pool = filters(14);
    const requests: Case[] = [];
    while (requests.length < 500) {
      const base = randomCase(random, pool);
      requests.push(base, ...variants(random, base, pool));
    }
    let repeats = 0;
    for (const [index, request] of requests.entries()) {
      sent.warm.length = 0;
      sent.fresh.length = 0;
      const memoized = await answer(warm, request);
      const fresh = createDb(database.pool, config, undefined, (query) => sent.fresh.push(query));
      const compiled = await answer(fresh, request);
      const context = JSON.stringify({ index, request: { ...request, filter: request.filter.key } });
      expect(
        sent.warm.map((query) => [query.sql, query.parameters]),
        context,
      ).toEqual(sent.fresh.map((query) => [query.sql, query.parameters]));
      expect(memoized, context).toEqual(compiled);
      if (random() < 0.2) {
        const before = compiles;
        expect(await answer(warm, request), context).toEqual(compiled);
        expect(compiles - before, `${context}: a repeated request compiled again`).toBe(0);
        repeats += 1;
      }
    }
    expect(repeats).toBeGreaterThan(40);
  });
});
