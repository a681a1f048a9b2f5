import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/env.js';
import { createDb, type Db } from '../src/db/database.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { readTripsAfter } from '../src/live/queries.js';
import { compileTripFilter, validateTripFilter, type TripFilter } from '../src/trips/filter.js';
import { compileTripMatcher, type MatchableTripRow } from '../src/trips/match-filter.js';
import { parseTripFilter } from '../src/trips/parse-filter.js';
import { installZipZones } from '../src/zones/install-zip-zones.js';
import { BOROUGHS } from '../src/zones/nyc-zip-codes.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { insertTrickyTrips } from './support/trips-fixture.js';

/**
 * The live feed filters rows in memory while resuming subscribers catch up
 * with SQL: both must select exactly the same rows. Every filter here runs both
 * ways over the tricky fixture plus rows with NaN, infinities, microsecond
 * timestamps on millisecond boundaries and an id above 2^53.
 */
const EDGE_ROWS = `
  INSERT INTO "default".trips_synced VALUES
    (5001, '2016-01-01 00:00:00.000999+00', 'infinity', 'Infinity', 'NaN', 10001, NULL),
    (5002, '-infinity', '2016-01-01 00:00:00.001+00', '-0', '-Infinity', NULL, 10022),
    (5003, '2016-01-01 05:00:00+00', '2016-01-01 05:00:00.000001+00', 'NaN', 0, 11430, 11430),
    (9007199254740993, '2016-01-02 00:00:00.000123+00', NULL, 1e-300, 1e300, 99999, 10003)`;

describe('in-memory trip filter matches the SQL filter', () => {
  let database: TestDatabase;
  let db: Db;
  let rows: MatchableTripRow[];

  beforeAll(async () => {
    database = await createTestDatabase('matcher');
    await ensureSyncedTable(database.pool, 'default', 'trips_synced');
    await insertTrickyTrips(database.pool, 600);
    await database.pool.query(EDGE_ROWS);
    const config = loadConfig({ DATABASE_URL: database.url }).database!;
    await installZipZones(database.pool, config.gatewaySchema);
    db = createDb(database.pool, config);
    rows = await readTripsAfter(db, null, 100_000);
  });
  afterAll(() => database.drop());

  async function sqlIds(filter: TripFilter): Promise<string[]> {
    const result = await db
      .selectFrom('trips')
      .select('id')
      .where(compileTripFilter(parseTripFilter(filter)) ?? sql<boolean>`true`)
      .orderBy('id')
      .execute();
    return result.map((row) => row.id);
  }

  function memoryIds(filter: TripFilter): string[] {
    const matches = compileTripMatcher(parseTripFilter(filter));
    return rows.filter(matches).map((row) => row.id);
  }

  const at = (iso: string) => new Date(iso);
  const HANDWRITTEN: [string, TripFilter][] = [
    ['ne never matches NULL', { pickupZip: { ne: 10001 } }],
    ['notIn never matches NULL', { dropoffZip: { notIn: [10001, 10022] } }],
    ['not is the exact complement, NULLs included', { not: { pickupZip: { ne: 10001 } } }],
    ['not of an or with NULLs', { not: { or: [{ fareAmount: { gt: 10 } }, { tripDistance: { lt: 2 } }] } }],
    ['not of nothing matches nothing', { not: {} }],
    ['empty filter matches all', {}],
    ['microseconds beyond a millisecond bound', { pickupAt: { gt: at('2016-01-01T00:00:00.000Z') } }],
    ['lte a millisecond below microseconds', { pickupAt: { lte: at('2016-01-01T03:00:00.000Z') } }],
    ['infinite timestamps', { dropoffAt: { gt: at('2016-01-05T00:00:00Z') } }],
    ['minus infinity', { pickupAt: { lt: at('2015-01-01T00:00:00Z') } }],
    ['NaN is above every float', { fareAmount: { gt: 1e308 } }],
    ['NaN equals nothing given', { tripDistance: { eq: 0 } }],
    ['negative zero equals zero', { tripDistance: { lte: 0, gte: 0 } }],
    ['float isNull false keeps NaN', { tripDistance: { isNull: false, lt: 3 } }],
    ['ids above 2^53', { tripId: { gt: '9007199254740992' } }],
    ['id list', { tripId: { in: ['3', '9007199254740993', '5002', '4'] } }],
    ['id range', { tripId: { gte: '300', lt: '900' } }],
    [
      'and of ors',
      { and: [{ or: [{ pickupZip: { eq: 10001 } }, { pickupZip: { isNull: true } }] }, { fareAmount: { gte: 5 } }] },
    ],
    ['null isNull operator ignored', { pickupZip: { eq: null, isNull: null }, fareAmount: { lt: 10 } }],
    ['a borough', { pickupBorough: { eq: 'Manhattan' } }],
    ['ne borough never matches an unlisted or NULL ZIP', { pickupBorough: { ne: 'Queens' } }],
    ['borough isNull: unlisted and NULL ZIPs', { pickupBorough: { isNull: true } }],
    ['borough lists', { dropoffBorough: { in: ['Queens', 'Brooklyn'] }, pickupBorough: { notIn: ['Manhattan'] } }],
    ['not of a borough', { not: { dropoffBorough: { eq: 'Manhattan' } } }],
  ];

  for (const [name, filter] of HANDWRITTEN) {
    it(`agrees on: ${name}`, async () => {
      validateTripFilter(filter);
      expect(memoryIds(filter)).toEqual(await sqlIds(filter));
    });
  }

  it('agrees on 400 random filters over the same values', async () => {
    const random = mulberry32(20160101);
    const pools = valuePools(rows);
    let checked = 0;
    let nonTrivial = 0;
    for (let attempt = 0; checked < 400 && attempt < 4000; attempt += 1) {
      const filter = randomFilter(random, pools, 0);
      try {
        validateTripFilter(filter);
      } catch {
        continue; // an empty range, for instance: rejected before it ever runs
      }
      const want = await sqlIds(filter);
      expect(memoryIds(filter), JSON.stringify(filter)).toEqual(want);
      checked += 1;
      if (want.length > 0 && want.length < rows.length) nonTrivial += 1;
    }
    expect(checked).toBe(400);
    // The generator must produce filters that split the table, or the comparison proves little.
    expect(nonTrivial).toBeGreaterThan(200);
  });
});

interface Pools {
  ids: string[];
  times: Date[];
  zips: number[];
  floats: number[];
}

function valuePools(rows: MatchableTripRow[]): Pools {
  const times = new Set<number>();
  const floats = new Set<number>([0, -1, 1e308]);
  for (const row of rows) {
    for (const micros of [row.pickupMicros, row.dropoffMicros]) {
      if (micros === null || !Number.isFinite(micros)) continue;
      // The value truncated to milliseconds, and a millisecond either side.
      const ms = Math.floor(micros / 1000);
      times
        .add(ms)
        .add(ms - 1)
        .add(ms + 1);
    }
    for (const value of [row.fare_amount, row.trip_distance]) {
      if (value !== null && Number.isFinite(value)) floats.add(value);
    }
  }
  return {
    ids: rows.map((row) => row.id).concat(['0', '-5', '9223372036854775807']),
    times: [...times].map((ms) => new Date(ms)),
    zips: [10001, 10011, 10019, 11371, 11430, 10036, 99999, 10022, 10003, 11201, 12345],
    floats: [...floats],
  };
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomFilter(random: () => number, pools: Pools, depth: number): TripFilter {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const some = <T>(list: readonly T[], max: number): T[] =>
    Array.from({ length: 1 + Math.floor(random() * max) }, () => pick(list));
  const ops = <T>(names: readonly string[], value: () => T, lists: readonly string[] = []) => {
    const spec: Record<string, unknown> = {};
    for (const name of names) if (random() < 0.25) spec[name] = value();
    for (const name of lists) if (random() < 0.2) spec[name] = some([value(), value(), value()], 3);
    if (random() < 0.12) spec.isNull = random() < 0.5;
    return spec;
  };
  const filter: Record<string, unknown> = {};
  if (random() < 0.2) filter.tripId = ops(['eq', 'gt', 'gte', 'lt', 'lte'], () => pick(pools.ids), ['in']);
  if (filter.tripId) delete (filter.tripId as Record<string, unknown>).isNull;
  if (random() < 0.3) filter.pickupAt = ops(['gt', 'gte', 'lt', 'lte'], () => pick(pools.times));
  if (random() < 0.2) filter.dropoffAt = ops(['gt', 'gte', 'lt', 'lte'], () => pick(pools.times));
  for (const field of ['pickupZip', 'dropoffZip']) {
    if (random() < 0.3)
      filter[field] = ops(['eq', 'ne', 'gt', 'gte', 'lt', 'lte'], () => pick(pools.zips), ['in', 'notIn']);
  }
  for (const field of ['fareAmount', 'tripDistance']) {
    if (random() < 0.3) filter[field] = ops(['eq', 'gt', 'gte', 'lt', 'lte'], () => pick(pools.floats));
  }
  for (const field of ['pickupBorough', 'dropoffBorough']) {
    if (random() < 0.2) filter[field] = ops(['eq', 'ne'], () => pick(BOROUGHS), ['in', 'notIn']);
  }
  if (depth < 3) {
    if (random() < 0.2)
      filter.and = Array.from({ length: 1 + Math.floor(random() * 3) }, () => randomFilter(random, pools, depth + 1));
    if (random() < 0.25)
      filter.or = Array.from({ length: 1 + Math.floor(random() * 3) }, () => randomFilter(random, pools, depth + 1));
    if (random() < 0.25) filter.not = randomFilter(random, pools, depth + 1);
  }
  // A filter without conditions matches everything and would prove nothing.
  if (Object.values(filter).every((spec) => JSON.stringify(spec) === '{}')) {
    filter.pickupZip = random() < 0.5 ? { ne: pick(pools.zips) } : { notIn: [pick(pools.zips), pick(pools.zips)] };
  }
  return filter as TripFilter;
}
