import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRIP_DIMENSIONS } from '../src/aggregates/dimensions.js';
import { insertAggregateTrips } from './support/aggregates-fixture.js';
import {
  expectedGroups,
  expectedStats,
  type ExpectedGroup,
  type ExpectedStats,
} from './support/aggregates-reference.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

const STATS = `count
  fareAmount { sum avg min max }
  tripDistance { sum avg min max }
  durationMinutes { sum avg min max }`;

const GROUPS = `query Groups($groupBy: [TripDimension!]!, $filter: TripFilter, $timeZone: String, $first: Int) {
  tripGroups(groupBy: $groupBy, filter: $filter, timeZone: $timeZone, first: $first, orderBy: [KEY_ASC]) {
    pickupZip dropoffZip pickupBorough dropoffBorough pickupTime pickupHourOfDay pickupDayOfWeek
    stats { ${STATS} }
  }
}`;

/** Filters beside the same predicate in SQL; the last two are shapes a rollup can answer. */
const FILTERS: { name: string; filter: Record<string, unknown> | null; where: string }[] = [
  { name: 'no filter', filter: null, where: 'true' },
  {
    name: 'fare range and ZIPs',
    filter: { fareAmount: { gte: 5, lt: 15 }, pickupZip: { in: [10001, 11430, 99999] } },
    where: 't.fare_amount >= 5 AND t.fare_amount < 15 AND t.pickup_zip IN (10001, 11430, 99999)',
  },
  {
    name: 'NULLs under or/not',
    filter: { or: [{ pickupZip: { isNull: true } }, { not: { dropoffZip: { in: [10001, 10022] } } }] },
    where: 't.pickup_zip IS NULL OR (t.dropoff_zip IN (10001, 10022)) IS NOT TRUE',
  },
  {
    name: 'hour-aligned New York week',
    filter: { pickupAt: { gte: '2015-12-28T05:00:00Z', lt: '2016-01-04T05:00:00Z' }, dropoffZip: { ne: 10314 } },
    where: `t.tpep_pickup_datetime >= '2015-12-28T05:00:00Z' AND t.tpep_pickup_datetime < '2016-01-04T05:00:00Z'
            AND t.dropoff_zip <> 10314`,
  },
  {
    name: 'boroughs',
    filter: { pickupBorough: { in: ['Manhattan', 'Queens'] }, dropoffBorough: { ne: 'Brooklyn' } },
    where: `t.pickup_zip IN (SELECT zip FROM lakebase_graphql.zip_zones WHERE borough IN ('Manhattan', 'Queens'))
            AND t.dropoff_zip IN (SELECT zip FROM lakebase_graphql.zip_zones WHERE borough <> 'Brooklyn')`,
  },
];

const TIME_BUCKETS = new Set(['PICKUP_HOUR', 'PICKUP_DAY', 'PICKUP_WEEK', 'PICKUP_MONTH']);
const COMBINATIONS: string[][] = [
  ...TRIP_DIMENSIONS.map((d) => [d]),
  ...TRIP_DIMENSIONS.flatMap((a, i) =>
    TRIP_DIMENSIONS.slice(i + 1)
      .filter((b) => !(TIME_BUCKETS.has(a) && TIME_BUCKETS.has(b)))
      .map((b) => [a, b]),
  ),
];

/** Sums of floats depend on the order they are added in; nothing else may differ. */
function expectStatsEqual(actual: ExpectedStats, expected: ExpectedStats, where: string): void {
  expect(actual.count, where).toBe(expected.count);
  for (const measure of ['fareAmount', 'tripDistance', 'durationMinutes'] as const) {
    for (const fn of ['sum', 'avg', 'min', 'max'] as const) {
      const a = actual[measure][fn];
      const e = expected[measure][fn];
      if (e === null || a === null) expect(a, `${where} ${measure}.${fn}`).toBe(e);
      else
        expect(Math.abs(a - e), `${where} ${measure}.${fn}: ${a} vs ${e}`).toBeLessThanOrEqual(
          1e-9 * Math.max(1, Math.abs(e)),
        );
    }
  }
}

function keyOf(group: Record<string, unknown>, fields: string[]): string {
  return JSON.stringify(fields.map((field) => group[field] ?? null));
}

type Group = Record<string, unknown> & { stats: ExpectedStats };

async function compareGroups(gw: TestGateway, dimensions: string[], filter: unknown, where: string, timeZone: string) {
  const { body } = await gw.query<{ tripGroups: Group[] }>(GROUPS, {
    groupBy: dimensions,
    filter,
    timeZone,
    first: 10_000,
  });
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  const actual = body.data!.tripGroups;
  const expected = await expectedGroups(gw.database.pool, dimensions, where, timeZone);
  const fields = Object.keys(expected[0]?.key ?? {});
  const label = `${dimensions.join('+')} in ${timeZone} where ${where}`;
  expect(actual.length, label).toBe(expected.length);
  const byKey = new Map<string, ExpectedGroup>(expected.map((group) => [keyOf(group.key, fields), group]));
  for (const group of actual) {
    const match = byKey.get(keyOf(group, fields));
    expect(match, `${label}: unexpected group ${keyOf(group, fields)}`).toBeDefined();
    expectStatsEqual(group.stats, match!.stats, `${label} group ${keyOf(group, fields)}`);
  }
  return actual;
}

/** The same expectations against the raw table (rollups off) and against a fresh rollup. */
describe.each<{ mode: string; env: Record<string, string> }>([
  // Default limits: every group with every measure and key fits the default query cost (see aggregates-api).
  { mode: 'raw table', env: { ROLLUPS: 'off' } },
  { mode: 'fresh rollup', env: { ROLLUP_POLL_MS: '0' } },
])('aggregates match hand-written SQL ($mode)', ({ mode, env }) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway(mode === 'raw table' ? 'agg_raw' : 'agg_rollup', env);
    await insertAggregateTrips(gw.database.pool);
    await gw.database.pool.query('SELECT pg_stat_force_next_flush()');
    if (mode === 'fresh rollup') expect((await gw.app.rollups.refresh()).status).toBe('built');
  });
  afterAll(() => gw.close());

  for (const { name, filter, where } of FILTERS) {
    it(`tripStats with ${name}`, async () => {
      const { body } = await gw.query<{ tripStats: ExpectedStats }>(
        `query($filter: TripFilter) { tripStats(filter: $filter) { ${STATS} } }`,
        { filter },
      );
      expect(body.errors).toBeUndefined();
      expectStatsEqual(body.data!.tripStats, await expectedStats(gw.database.pool, where), name);
    });

    it(`every dimension alone and in pairs with ${name}`, async () => {
      for (const dimensions of COMBINATIONS) {
        await compareGroups(gw, dimensions, filter, where, 'America/New_York');
      }
    });
  }

  it('answers with only some stats selected (count alone, one average) for every dimension', async () => {
    // With a borough filter, a rollup reads a grain with more keys than the dimension (borough and hour for
    // hours of day), which takes its two-stage path.
    const filters = [
      { filter: null, where: 'true' },
      {
        filter: { pickupBorough: { eq: 'Queens' } },
        where: `t.pickup_zip IN (SELECT zip FROM lakebase_graphql.zip_zones WHERE borough = 'Queens')`,
      },
    ];
    for (const { filter, where } of filters) {
      for (const [dimension] of COMBINATIONS.filter((c) => c.length === 1)) {
        const expected = await expectedGroups(gw.database.pool, [dimension!], where, 'America/New_York');
        const field = Object.keys(expected[0]!.key)[0]!;
        for (const selection of ['count', 'fareAmount { avg }']) {
          const { body } = await gw.query<{ tripGroups: (Group & Record<string, unknown>)[] }>(
            `query($filter: TripFilter) {
               tripGroups(groupBy: [${dimension}], first: 10000, timeZone: "America/New_York", filter: $filter) {
                 ${field} stats { ${selection} } } }`,
            { filter },
          );
          const label = `${dimension} ${selection} where ${where}`;
          expect(body.errors, `${label}: ${JSON.stringify(body.errors)}`).toBeUndefined();
          const got = new Map(body.data!.tripGroups.map((g) => [JSON.stringify(g[field] ?? null), g.stats]));
          expect(got.size, label).toBe(expected.length);
          for (const group of expected) {
            const stats = got.get(JSON.stringify(group.key[field] ?? null));
            if (selection === 'count') expect(stats?.count, label).toBe(group.stats.count);
            else if (group.stats.fareAmount.avg === null) expect(stats?.fareAmount.avg, label).toBeNull();
            else expect(stats?.fareAmount.avg, label).toBeCloseTo(group.stats.fareAmount.avg, 9);
          }
        }
      }
    }
  });

  it('groups in UTC, other whole-hour zones and a half-hour zone (which only the raw table can answer)', async () => {
    for (const timeZone of ['UTC', 'Europe/Berlin', 'Asia/Kolkata']) {
      for (const dimensions of [['PICKUP_DAY'], ['PICKUP_WEEK', 'PICKUP_DAY_OF_WEEK'], ['PICKUP_HOUR_OF_DAY']]) {
        await compareGroups(gw, dimensions, null, 'true', timeZone);
      }
    }
  });

  it('makes New York DST days 23 and 25 hours long', async () => {
    const days = await compareGroups(gw, ['PICKUP_DAY'], null, 'true', 'America/New_York');
    const starts = days.map((group) => group.pickupTime as string);
    const length = (day: string) => {
      const index = starts.indexOf(day);
      return (Date.parse(starts[index + 1]!) - Date.parse(day)) / 3_600_000;
    };
    expect(length('2016-03-13T05:00:00.000Z')).toBe(23);
    expect(length('2016-11-06T04:00:00.000Z')).toBe(25);
    const hours = await compareGroups(
      gw,
      ['PICKUP_HOUR'],
      { pickupAt: { gte: '2016-11-06T04:00:00Z', lt: '2016-11-07T05:00:00Z' } },
      `t.tpep_pickup_datetime >= '2016-11-06T04:00:00Z' AND t.tpep_pickup_datetime < '2016-11-07T05:00:00Z'`,
      'America/New_York',
    );
    // Both 01:00 hours of the fall-back night are separate buckets.
    expect(hours.map((group) => group.pickupTime)).toEqual(
      expect.arrayContaining(['2016-11-06T05:00:00.000Z', '2016-11-06T06:00:00.000Z']),
    );
  });

  it('puts Dec 28 2015 - Jan 3 2016 in one ISO week starting on Monday', async () => {
    const weeks = await compareGroups(gw, ['PICKUP_WEEK'], null, 'true', 'UTC');
    const starts = weeks.map((group) => group.pickupTime);
    expect(starts).toContain('2015-12-28T00:00:00.000Z');
    expect(starts).toContain('2016-01-04T00:00:00.000Z');
    expect(starts).not.toContain('2016-01-01T00:00:00.000Z');
    for (const start of starts) if (start) expect(new Date(start as string).getUTCDay()).toBe(1);
  });

  it('keeps NULL dimension values as groups of their own and NULL stats where nothing was aggregated', async () => {
    const zips = await compareGroups(gw, ['PICKUP_ZIP'], null, 'true', 'UTC');
    expect(zips.some((group) => group.pickupZip === null)).toBe(true);
    const noFares = zips.find((group) => group.pickupZip === 10282)!;
    expect(Number(noFares.stats.count)).toBeGreaterThan(0);
    expect(noFares.stats.fareAmount).toEqual({ sum: null, avg: null, min: null, max: null });
    const boroughs = await compareGroups(gw, ['PICKUP_BOROUGH'], null, 'true', 'UTC');
    // ZIP 99999 and NULL ZIPs share the NULL borough group.
    expect(boroughs.filter((group) => group.pickupBorough === null)).toHaveLength(1);
  });

  it(`answers from ${mode === 'raw table' ? 'the raw table only' : 'the rollup where it can'}`, () => {
    const { served } = gw.app.rollups;
    if (mode === 'raw table') expect(served.rollup).toBe(0);
    else expect(served.rollup).toBeGreaterThan(100);
    expect(served.raw).toBeGreaterThan(0);
  });

  it('returns an empty list when nothing matches', async () => {
    const { body } = await gw.query<{ tripGroups: unknown[] }>(GROUPS, {
      groupBy: ['PICKUP_ZIP'],
      filter: { pickupZip: { eq: 12345 } },
    });
    expect(body.errors).toBeUndefined();
    expect(body.data!.tripGroups).toEqual([]);
  });
});
