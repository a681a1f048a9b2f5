import type { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MEASURE_STATS, PARTS_OF, type MeasureStat } from '../src/aggregates/stats.js';
import { insertAggregateTrips } from './support/aggregates-fixture.js';
import { expectedGroups, expectedStats, type ExpectedStats } from './support/aggregates-reference.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

/**
 * A statement computes only the aggregates the response selects (fare_avg for
 * `fareAmount { avg }`), plus the one an ordering sorts by. Each selection must
 * still answer what hand-written SQL does, through the synced table, a rollup
 * grain and the two-stage path, and two selections in one request must not
 * get each other's columns.
 */

const FIELDS = { fare: 'fareAmount', distance: 'tripDistance', duration: 'durationMinutes' } as const;
type Field = (typeof FIELDS)[keyof typeof FIELDS];

function selectionOf(stat: MeasureStat): { field: Field; fn: 'sum' | 'avg' | 'min' | 'max'; graphql: string } {
  const [measure, fn] = stat.split('_') as [keyof typeof FIELDS, 'sum' | 'avg' | 'min' | 'max'];
  const field = FIELDS[measure];
  return { field, fn, graphql: `${field} { ${fn} }` };
}

/** The partials a first stage outputs (`AS "fare_sum_part"`), when the statement has one. */
function partialColumns(statements: readonly CompiledQuery[]): Set<string> {
  const columns = new Set<string>();
  for (const { sql } of statements) {
    for (const match of sql.matchAll(/AS "((?:fare|distance|duration)_(?:sum|nonnull|min|max)_part)"/g))
      columns.add(match[1]!);
  }
  return columns;
}

/** The aggregate columns a statement outputs (`AS "fare_avg"`; a first stage's `fare_sum_part` is not one). */
function selectedColumns(statements: readonly CompiledQuery[]): Set<string> {
  const columns = new Set<string>();
  for (const { sql } of statements) {
    for (const match of sql.matchAll(/AS "((?:fare|distance|duration)_(?:sum|avg|min|max))"/g)) columns.add(match[1]!);
  }
  return columns;
}

function expectClose(actual: number | null | undefined, expected: number | null, label: string): void {
  if (expected === null) expect(actual, label).toBeNull();
  else
    expect(Math.abs(actual! - expected), `${label}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
      1e-9 * Math.max(1, Math.abs(expected)),
    );
}

const QUEENS = `t.pickup_zip IN (SELECT zip FROM lakebase_graphql.zip_zones WHERE borough = 'Queens')`;

describe.each<{ mode: string; env: Record<string, string> }>([
  { mode: 'raw table', env: { ROLLUPS: 'off' } },
  { mode: 'fresh rollup', env: { ROLLUP_POLL_MS: '0' } },
])('aggregates select only the stats asked for ($mode)', ({ mode, env }) => {
  let gw: TestGateway;
  let sent: CompiledQuery[] = [];
  const run = async <T>(query: string, variables?: Record<string, unknown>) => {
    sent = [];
    const { body } = await gw.query<T>(query, variables);
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return {
      data: body.data!,
      columns: selectedColumns(sent),
      partials: partialColumns(sent),
      fromRollup: sent.some((statement) => statement.sql.includes('trip_rollup')),
    };
  };

  beforeAll(async () => {
    gw = await startTestGateway(mode === 'raw table' ? 'agg_sel_raw' : 'agg_sel_rollup', env, {
      onQuery: (query) => sent.push(query),
    });
    await insertAggregateTrips(gw.database.pool);
    if (mode === 'fresh rollup') expect((await gw.app.rollups.refresh()).status).toBe('built');
  });
  afterAll(() => gw.close());

  it('tripStats: each aggregate alone computes that one and answers as SQL', async () => {
    const expected = await expectedStats(gw.database.pool, 'true');
    for (const stat of MEASURE_STATS) {
      const { field, fn, graphql } = selectionOf(stat);
      const { data, columns } = await run<{ tripStats: ExpectedStats }>(`{ tripStats { ${graphql} } }`);
      expect([...columns], stat).toEqual([stat]);
      expectClose(data.tripStats[field][fn], expected[field][fn], stat);
    }
  });

  it('tripGroups: each aggregate alone, one stage and two (hours of day of one borough)', async () => {
    const cases = [
      { groupBy: 'PICKUP_ZIP', key: 'pickupZip', filter: null, where: 'true' },
      {
        groupBy: 'PICKUP_HOUR_OF_DAY',
        key: 'pickupHourOfDay',
        filter: { pickupBorough: { eq: 'Queens' } },
        where: QUEENS,
      },
    ];
    for (const { groupBy, key, filter, where } of cases) {
      const expected = await expectedGroups(gw.database.pool, [groupBy], where, 'America/New_York');
      const byKey = new Map(expected.map((group) => [JSON.stringify(group.key[key] ?? null), group.stats]));
      for (const stat of MEASURE_STATS) {
        const { field, fn, graphql } = selectionOf(stat);
        const { data, columns, partials, fromRollup } = await run<{
          tripGroups: (Record<string, unknown> & { stats: ExpectedStats })[];
        }>(
          `query($filter: TripFilter) {
             tripGroups(groupBy: [${groupBy}], first: 1000, timeZone: "America/New_York", filter: $filter) {
               ${key} stats { ${graphql} } } }`,
          { filter },
        );
        const label = `${groupBy} ${stat}`;
        expect([...columns], label).toEqual([stat]);
        expect(fromRollup, label).toBe(mode === 'fresh rollup');
        // Hours of day in New York take a first stage (per UTC hour, or per rollup row) in both modes: its
        // partials are only those the aggregate recombines from.
        if (groupBy === 'PICKUP_HOUR_OF_DAY') {
          const [measure] = stat.split('_');
          expect([...partials].sort(), label).toEqual(PARTS_OF[fn].map((part) => `${measure}_${part}_part`).sort());
        }
        expect(data.tripGroups.length, label).toBe(expected.length);
        for (const group of data.tripGroups) {
          const stats = byKey.get(JSON.stringify(group[key] ?? null));
          expect(stats, `${label}: group ${String(group[key])}`).toBeDefined();
          expectClose(group.stats[field][fn], stats![field][fn], `${label} group ${String(group[key])}`);
        }
      }
    }
  });

  it('keeps two selections in one request apart, through aliases and fragments on NumberStats', async () => {
    const expected = await expectedStats(gw.database.pool, 'true');
    const { data, columns } = await run<{
      low: { fareAmount: { min: number } };
      high: { fareAmount: { max: number }; d: { sum: number } };
    }>(`
      fragment Sum on NumberStats { sum }
      {
        low: tripStats { fareAmount { min } }
        high: tripStats { fareAmount { ... on NumberStats { max } } d: tripDistance { ...Sum } }
      }`);
    expect([...columns].sort()).toEqual(['distance_sum', 'fare_max', 'fare_min']);
    expectClose(data.low.fareAmount.min, expected.fareAmount.min, 'low');
    expectClose(data.high.fareAmount.max, expected.fareAmount.max, 'high');
    expectClose(data.high.d.sum, expected.tripDistance.sum, 'distance sum');
  });

  it('computes the aggregate an ordering sorts by even when the response does not show it', async () => {
    const { data, columns } = await run<{ tripGroups: { pickupZip: number | null; stats: { count: string } }[] }>(
      `{ tripGroups(groupBy: [PICKUP_ZIP], orderBy: [FARE_AMOUNT_SUM_DESC], first: 5) { pickupZip stats { count } } }`,
    );
    expect([...columns]).toEqual(['fare_sum']);
    const { rows } = await gw.database.pool.query<{ zip: number | null; count: string }>(
      `SELECT pickup_zip AS zip, count(*)::text AS count FROM "default".trips_synced
        GROUP BY 1 ORDER BY sum(fare_amount) DESC NULLS LAST, 1 ASC NULLS LAST LIMIT 5`,
    );
    expect(data.tripGroups.map((group) => [group.pickupZip, group.stats.count])).toEqual(
      rows.map((row) => [row.zip, row.count]),
    );
  });

  it('computes every aggregate when a directive may change the selection', async () => {
    const expected = await expectedStats(gw.database.pool, 'true');
    const { data, columns } = await run<{ tripStats: { fareAmount: { avg: number } } }>(
      `query($on: Boolean!) { tripStats { fareAmount @include(if: $on) { avg } } }`,
      { on: true },
    );
    expect(columns.size).toBe(MEASURE_STATS.length);
    expectClose(data.tripStats.fareAmount.avg, expected.fareAmount.avg, 'avg');
  });
});
