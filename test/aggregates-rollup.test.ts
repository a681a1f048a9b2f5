import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { analyzeRollup } from '../src/aggregates/rollup/build.js';
import { loadConfig } from '../src/config/env.js';
import { createDb } from '../src/db/database.js';
import { createPool } from '../src/db/pool.js';
import { silentLogger } from '../src/logger.js';
import { insertAggregateTrips } from './support/aggregates-fixture.js';
import { expectedGroups, expectedStats, type ExpectedStats } from './support/aggregates-reference.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

const STATS = `count fareAmount { sum avg min max } tripDistance { sum avg min max } durationMinutes { sum avg min max }`;

/** Query shapes a rollup grain can answer, with their reference SQL. */
const QUERY = `{
  total: tripStats { ${STATS} }
  week: tripStats(filter: { pickupAt: { gte: "2015-12-28T05:00:00Z", lt: "2016-01-04T05:00:00Z" } }) { ${STATS} }
  fares: tripStats(filter: { or: [{ fareAmount: { gte: 5, lt: 15 } }, { fareAmount: { isNull: true } }] }) { ${STATS} }
  byZip: tripGroups(groupBy: [PICKUP_ZIP], orderBy: [KEY_ASC], first: 100) { pickupZip stats { ${STATS} } }
  byDay: tripGroups(groupBy: [PICKUP_DAY], timeZone: "America/New_York", orderBy: [KEY_ASC], first: 100) {
    pickupTime stats { ${STATS} }
  }
  byBoroughHour: tripGroups(groupBy: [DROPOFF_BOROUGH, PICKUP_HOUR_OF_DAY], orderBy: [KEY_ASC], first: 100,
                            filter: { dropoffZip: { in: [10001, 11430, 10314] } }) {
    dropoffBorough pickupHourOfDay stats { ${STATS} }
  }
  byBoroughDay: tripGroups(groupBy: [PICKUP_BOROUGH, PICKUP_DAY], orderBy: [KEY_ASC], first: 200, timeZone: "America/New_York") {
    pickupBorough pickupTime stats { ${STATS} }
  }
  manhattanHours: tripGroups(groupBy: [PICKUP_HOUR_OF_DAY], orderBy: [KEY_ASC], first: 30, timeZone: "America/New_York",
                             filter: { pickupBorough: { eq: "Manhattan" } }) {
    pickupHourOfDay stats { ${STATS} }
  }
  queensZips: tripGroups(groupBy: [PICKUP_ZIP], orderBy: [KEY_ASC], first: 100,
                         filter: { pickupBorough: { in: ["Queens", "Brooklyn"] }, pickupAt: { gte: "2016-01-01T00:00:00Z" } }) {
    pickupZip stats { ${STATS} }
  }
  noBorough: tripStats(filter: { dropoffBorough: { isNull: true } }) { ${STATS} }
  queensHoursCountOnly: tripGroups(groupBy: [PICKUP_HOUR_OF_DAY], first: 30, timeZone: "America/New_York",
                                   filter: { pickupBorough: { eq: "Queens" } }) {
    pickupHourOfDay stats { count }
  }
}`;

type Stats = ExpectedStats;
interface Result {
  total: Stats;
  week: Stats;
  fares: Stats;
  byZip: ({ pickupZip: number | null; stats: Stats } & Record<string, unknown>)[];
  byDay: ({ pickupTime: string | null; stats: Stats } & Record<string, unknown>)[];
  byBoroughDay: ({ pickupBorough: string | null; pickupTime: string | null; stats: Stats } & Record<string, unknown>)[];
  noBorough: Stats;
  queensHoursCountOnly: { pickupHourOfDay: number | null; stats: { count: string } }[];
  manhattanHours: ({ pickupHourOfDay: number | null; stats: Stats } & Record<string, unknown>)[];
  queensZips: ({ pickupZip: number | null; stats: Stats } & Record<string, unknown>)[];
  byBoroughHour: ({ dropoffBorough: string | null; pickupHourOfDay: number | null; stats: Stats } & Record<
    string,
    unknown
  >)[];
}

function close(a: number | null, e: number | null): boolean {
  if (a === null || e === null) return a === e;
  return Math.abs(a - e) <= 1e-9 * Math.max(1, Math.abs(e));
}

function sameStats(actual: Stats, expected: Stats): boolean {
  return (
    actual.count === expected.count &&
    (['fareAmount', 'tripDistance', 'durationMinutes'] as const).every((m) =>
      (['sum', 'avg', 'min', 'max'] as const).every((fn) => close(actual[m][fn], expected[m][fn])),
    )
  );
}

describe('rollups never answer from stale data', () => {
  let gw: TestGateway;
  let writer: pg.Client;

  beforeAll(async () => {
    gw = await startTestGateway('agg_fresh', { ROLLUP_POLL_MS: '0' });
    writer = new pg.Client({ connectionString: gw.database.url });
    await writer.connect();
    await insertAggregateTrips(gw.database.pool);
  });
  afterAll(async () => {
    await writer.end();
    await gw.close();
  });

  /** Runs QUERY and compares every part with hand-written SQL over the table as it is now. */
  async function expectMatchesTable(): Promise<void> {
    const { body } = await gw.query<Result>(QUERY);
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    const data = body.data!;
    const pool = gw.database.pool;
    expect(sameStats(data.total, await expectedStats(pool, 'true')), 'total').toBe(true);
    const week = `t.tpep_pickup_datetime >= '2015-12-28T05:00:00Z' AND t.tpep_pickup_datetime < '2016-01-04T05:00:00Z'`;
    expect(sameStats(data.week, await expectedStats(pool, week)), 'week').toBe(true);
    const fares = '(t.fare_amount >= 5 AND t.fare_amount < 15) OR t.fare_amount IS NULL';
    expect(sameStats(data.fares, await expectedStats(pool, fares)), 'fares').toBe(true);
    const zipsOf = (boroughs: string) => `(SELECT zip FROM lakebase_graphql.zip_zones WHERE borough IN (${boroughs}))`;
    const noBorough = `t.dropoff_zip IS NULL OR t.dropoff_zip NOT IN (SELECT zip FROM lakebase_graphql.zip_zones)`;
    expect(sameStats(data.noBorough, await expectedStats(pool, noBorough)), 'noBorough').toBe(true);
    // Only the count selected: no measure is aggregated at all.
    const queensHours = await expectedGroups(
      pool,
      ['PICKUP_HOUR_OF_DAY'],
      `t.pickup_zip IN ${zipsOf("'Queens'")}`,
      'America/New_York',
    );
    expect(
      new Map(data.queensHoursCountOnly.map((g) => [g.pickupHourOfDay, Number(g.stats.count)])),
      'queensHoursCountOnly',
    ).toEqual(new Map(queensHours.map((g) => [g.key.pickupHourOfDay ?? null, Number(g.stats.count)])));
    const checks: [Result[keyof Result], Awaited<ReturnType<typeof expectedGroups>>, string[]][] = [
      [data.byZip, await expectedGroups(pool, ['PICKUP_ZIP'], 'true', 'UTC'), ['pickupZip']],
      [data.byDay, await expectedGroups(pool, ['PICKUP_DAY'], 'true', 'America/New_York'), ['pickupTime']],
      [
        data.byBoroughHour,
        await expectedGroups(
          pool,
          ['DROPOFF_BOROUGH', 'PICKUP_HOUR_OF_DAY'],
          't.dropoff_zip IN (10001, 11430, 10314)',
          'UTC',
        ),
        ['dropoffBorough', 'pickupHourOfDay'],
      ],
      [
        data.manhattanHours,
        await expectedGroups(
          pool,
          ['PICKUP_HOUR_OF_DAY'],
          `t.pickup_zip IN ${zipsOf("'Manhattan'")}`,
          'America/New_York',
        ),
        ['pickupHourOfDay'],
      ],
      [
        data.queensZips,
        await expectedGroups(
          pool,
          ['PICKUP_ZIP'],
          `t.pickup_zip IN ${zipsOf("'Queens', 'Brooklyn'")} AND t.tpep_pickup_datetime >= '2016-01-01T00:00:00Z'`,
          'UTC',
        ),
        ['pickupZip'],
      ],
      [
        data.byBoroughDay,
        await expectedGroups(pool, ['PICKUP_BOROUGH', 'PICKUP_DAY'], 'true', 'America/New_York'),
        ['pickupBorough', 'pickupTime'],
      ],
    ];
    for (const [actual, expected, fields] of checks) {
      const groups = actual as unknown as (Record<string, unknown> & { stats: Stats })[];
      expect(groups.length, fields.join()).toBe(expected.length);
      const byKey = new Map(expected.map((g) => [JSON.stringify(fields.map((f) => g.key[f])), g.stats]));
      for (const group of groups) {
        const key = JSON.stringify(fields.map((f) => group[f] ?? null));
        expect(sameStats(group.stats, byKey.get(key)!), `${fields.join()} ${key}`).toBe(true);
      }
    }
  }

  /** Sources used by one run of QUERY (11 aggregates). */
  async function sourcesOfOneQuery(): Promise<{ raw: number; rollup: number }> {
    const before = { ...gw.app.rollups.served };
    await expectMatchesTable();
    return { raw: gw.app.rollups.served.raw - before.raw, rollup: gw.app.rollups.served.rollup - before.rollup };
  }

  /**
   * Writes through one session that wrote a moment ago, so Postgres has not
   * published its statistics yet (a backend flushes them at most once a
   * second): the statistics counters cannot reveal the change, only the
   * change trigger can.
   */
  async function write(sqlText: string): Promise<void> {
    await writer.query(`CREATE TEMP TABLE IF NOT EXISTS primer (n int); INSERT INTO primer VALUES (1)`);
    await writer.query(sqlText);
  }

  async function refreshKind(): Promise<string> {
    const outcome = await gw.app.rollups.refresh();
    return outcome.status === 'built' ? outcome.build.kind : outcome.status;
  }

  it('answers from the rollup once it is built, with the same results as the table', async () => {
    expect(await sourcesOfOneQuery()).toEqual({ raw: 11, rollup: 0 });
    expect(await refreshKind()).toBe('full');
    expect(await sourcesOfOneQuery()).toEqual({ raw: 0, rollup: 11 });
    expect(await refreshKind()).toBe('unchanged');
  });

  it('falls back to the table right after an append of new ids, then adds just the new trips', async () => {
    await write(`INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, fare_amount, pickup_zip)
                 VALUES (100000, '2016-01-02T10:15:00Z', 1000, 10001), (100001, NULL, NULL, NULL)`);
    expect(await sourcesOfOneQuery()).toEqual({ raw: 11, rollup: 0 });
    const outcome = await gw.app.rollups.refresh();
    expect(outcome.status === 'built' && outcome.build).toMatchObject({ kind: 'append', tripsScanned: 2 });
    expect(await sourcesOfOneQuery()).toEqual({ raw: 0, rollup: 11 });
  });

  it('compacts the rows that appends add, with the same results', async () => {
    let kind = '';
    for (let i = 0; i < 60 && kind !== 'compact'; i += 1) {
      await write(`INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, tpep_dropoff_datetime, fare_amount,
                                                       trip_distance, pickup_zip, dropoff_zip)
                   SELECT 200000 + ${i * 1000} + g, timestamptz '2016-01-05T00:00:00Z' + g * interval '37 minutes',
                          timestamptz '2016-01-05T00:20:00Z' + g * interval '37 minutes', 5 + g, g / 3.0,
                          10001 + g % 40, 11430 - g % 3
                     FROM generate_series(1, 50) AS g`);
      kind = await refreshKind();
      expect(['append', 'compact']).toContain(kind);
    }
    expect(kind).toBe('compact');
    const state = await gw.database.pool.query<{ keys: string; rows: string }>(
      `SELECT count(DISTINCT (grain, pickup_zip, dropoff_zip, tpep_pickup_datetime, fare_amount, pickup_borough,
                              dropoff_borough))::text AS keys, count(*)::text AS rows
         FROM lakebase_graphql.trip_rollup_v4`,
    );
    expect(state.rows[0]!.rows).toBe(state.rows[0]!.keys);
    expect(await sourcesOfOneQuery()).toEqual({ raw: 0, rollup: 11 });
  });

  it.each([
    [
      'an update',
      `UPDATE "default".trips_synced SET fare_amount = fare_amount + 7, dropoff_zip = 11430 WHERE id % 5 = 0`,
    ],
    ['a delete', `DELETE FROM "default".trips_synced WHERE id % 7 = 3`],
    [
      'an insert below the largest id',
      `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, fare_amount)
                                        VALUES (50000, '2016-01-01T01:00:00Z', 3)`,
    ],
    [
      'a set of NULLs',
      `UPDATE "default".trips_synced SET pickup_zip = NULL, tpep_pickup_datetime = NULL WHERE id % 9 = 1`,
    ],
  ])('falls back to the table after %s, and serves the rollup again once rebuilt', async (_name, change) => {
    await write(change);
    expect(await sourcesOfOneQuery()).toEqual({ raw: 11, rollup: 0 });
    expect(await refreshKind()).toBe('full');
    expect(await sourcesOfOneQuery()).toEqual({ raw: 0, rollup: 11 });
  });

  it('falls back after the table is truncated and reloaded with the same ids', async () => {
    await write(`TRUNCATE "default".trips_synced`);
    await insertAggregateTrips(gw.database.pool, 900);
    expect(await sourcesOfOneQuery()).toEqual({ raw: 11, rollup: 0 });
    expect(await refreshKind()).toBe('full');
    expect(await sourcesOfOneQuery()).toEqual({ raw: 0, rollup: 11 });
  });

  it('waits one interval of stillness before a full rebuild, however many wake-ups a sync sends', async () => {
    // Each sync notification wakes a check 100 ms later and one sync sends several: the second check of the same
    // sync took the signature for one that had held still, and rebuilt (6 to 15 full rebuilds a minute).
    const polled = await startTestGateway('agg_still', { ROLLUP_POLL_MS: '3000' });
    try {
      await insertAggregateTrips(polled.database.pool, 300);
      await polled.app.rollups.refresh();
      const full = () => polled.app.rollups.builds.full ?? 0;
      const before = full();
      const changedAt = Date.now();
      await polled.database.pool.query(
        `UPDATE "default".trips_synced SET fare_amount = fare_amount + 1 WHERE id <= 10`,
      );
      for (let i = 0; i < 4; i += 1) {
        polled.app.rollups.wake();
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      // Within the interval (3 s) of the change: no rebuild yet, whatever the wake-ups.
      if (Date.now() - changedAt < 2_500) expect(full()).toBe(before);
      await vi.waitFor(() => expect(full()).toBe(before + 1), { timeout: 20_000, interval: 100 });
    } finally {
      await polled.close();
    }
  });

  it('keeps appending new trips while a pipeline streams, after a late id made one build full', async () => {
    // The stillness rule held inserts too, once a late id had made their build full: a pipeline committing more
    // often than the interval never got another build, and aggregates were read from the table meanwhile.
    const polled = await startTestGateway('agg_streaming', { ROLLUP_POLL_MS: '3000' });
    try {
      const pool = polled.database.pool;
      await insertAggregateTrips(pool, 300);
      await polled.app.rollups.refresh();
      const builds = () => ({ ...polled.app.rollups.builds });
      const insert = (id: number) =>
        pool.query(
          `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, fare_amount) VALUES ($1, now(), 10)`,
          [id],
        );
      const fullBefore = builds().full ?? 0;
      await insert(-1);
      for (let i = 0; i < 3; i += 1) {
        polled.app.rollups.wake();
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      await vi.waitFor(() => expect(builds().full ?? 0).toBe(fullBefore + 1), { timeout: 10_000, interval: 100 });
      // Now a commit every 300 ms, never three seconds of stillness: each is appended all the same.
      const appendsBefore = builds().append ?? 0;
      let appended = false;
      for (let i = 0; i < 8 && !appended; i += 1) {
        await insert(10_000 + i);
        polled.app.rollups.wake();
        await new Promise((resolve) => setTimeout(resolve, 300));
        appended = (builds().append ?? 0) > appendsBefore;
      }
      expect(appended).toBe(true);
    } finally {
      await polled.close();
    }
  });

  it('is rebuilt by the maintainer once the table holds still', async () => {
    const polled = await startTestGateway('agg_poll', { ROLLUP_POLL_MS: '50' });
    try {
      await insertAggregateTrips(polled.database.pool, 300);
      await vi.waitFor(
        async () => {
          const fresh = await polled.app.rollups.freshRollup();
          expect(fresh?.grainRows.h).toBeGreaterThan(0);
        },
        { timeout: 20_000, interval: 100 },
      );
    } finally {
      await polled.close();
    }
  });
});

describe('the vacuum after a rollup rebuild', () => {
  it('is not cut by a short PG_STATEMENT_TIMEOUT_MS (it runs outside the build, whose transaction turns it off)', async () => {
    const gw = await startTestGateway('agg_vacuum', { ROLLUP_POLL_MS: '0' });
    const pool = createPool(loadConfig({ DATABASE_URL: gw.database.url, PG_STATEMENT_TIMEOUT_MS: '1' }).database!, {
      logger: silentLogger,
    });
    try {
      await insertAggregateTrips(gw.database.pool, 3000);
      expect(await gw.app.rollups.refresh()).toMatchObject({ status: 'built' });
      const db = createDb(pool, gw.config.database);
      // With a 1 ms timeout every other statement would be cancelled; the vacuum's own setting is off.
      await expect(sql`SELECT pg_sleep(0.05)`.execute(db)).rejects.toMatchObject({ code: '57014' });
      await analyzeRollup(db);
    } finally {
      await pool.end();
      await gw.close();
    }
  });
});
