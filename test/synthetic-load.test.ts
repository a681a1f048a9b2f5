import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadSampleIfEmpty } from '../src/dev/load/sample-if-empty.js';
import { loadSyntheticTrips } from '../src/dev/load/synthetic-trips.js';
import { DEFAULT_SAMPLE_ROWS, generateTripRecords } from '../src/dev/sample/trip-generator.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { installZipZones } from '../src/zones/install-zip-zones.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const target = { schema: 'default', table: 'trips_synced' };
const T = '"default".trips_synced';

describe('default sample, checked with SQL', () => {
  let db: TestDatabase;
  const one = async <T = Record<string, unknown>>(sql: string): Promise<T> => (await db.pool.query(sql)).rows[0] as T;

  beforeAll(async () => {
    db = await createTestDatabase('sample_sql');
    await ensureSyncedTable(db.pool, target.schema, target.table);
    await installZipZones(db.pool, 'gateway');
    const first = await loadSampleIfEmpty(db.pool, target);
    expect(first).toMatchObject({ action: 'loaded', rows: DEFAULT_SAMPLE_ROWS });
  });
  afterAll(() => db.drop());

  it('holds the sample once, with ids 1..N', async () => {
    expect(await loadSampleIfEmpty(db.pool, target)).toEqual({ action: 'skipped', reason: 'table not empty' });
    expect(
      await one(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids, min(id) AS lo, max(id) AS hi FROM ${T}`),
    ).toEqual({
      n: DEFAULT_SAMPLE_ROWS,
      ids: DEFAULT_SAMPLE_ROWS,
      lo: '1',
      hi: String(DEFAULT_SAMPLE_ROWS),
    });
  });

  it('has no impossible rows', async () => {
    expect(
      await one(`SELECT
          count(*) FILTER (WHERE tpep_dropoff_datetime <= tpep_pickup_datetime)::int AS backwards,
          count(*) FILTER (WHERE trip_distance <= 0)::int AS no_distance,
          count(*) FILTER (WHERE fare_amount < 2.5)::int AS below_flag_drop,
          count(*) FILTER (WHERE tpep_pickup_datetime < '2016-01-01Z' OR tpep_pickup_datetime >= '2016-03-01Z')::int AS outside_period,
          count(*) FILTER (WHERE num_nulls(tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, fare_amount, pickup_zip, dropoff_zip) > 0)::int AS with_nulls
        FROM ${T}`),
    ).toEqual({ backwards: 0, no_distance: 0, below_flag_drop: 0, outside_period: 0, with_nulls: 0 });
  });

  it('uses reference ZIPs (a few dropoffs outside the city), Manhattan heavy, airports present', async () => {
    const zips = await one<
      Record<
        | 'pickup_unknown'
        | 'dropoff_unknown'
        | 'pickup_manhattan'
        | 'dropoff_manhattan'
        | 'laguardia'
        | 'jfk'
        | 'pickup_boroughs',
        number
      >
    >(`SELECT
        avg((p.zip IS NULL)::int)::float AS pickup_unknown,
        avg((d.zip IS NULL)::int)::float AS dropoff_unknown,
        avg((p.borough = 'Manhattan')::int)::float AS pickup_manhattan,
        avg((d.borough = 'Manhattan')::int)::float AS dropoff_manhattan,
        avg((t.pickup_zip = 11371 OR t.dropoff_zip = 11371)::int)::float AS laguardia,
        avg((t.pickup_zip = 11430 OR t.dropoff_zip = 11430)::int)::float AS jfk,
        count(DISTINCT p.borough)::int AS pickup_boroughs
      FROM ${T} t
      LEFT JOIN gateway.zip_zones p ON p.zip = t.pickup_zip
      LEFT JOIN gateway.zip_zones d ON d.zip = t.dropoff_zip`);
    expect(zips.pickup_unknown).toBe(0);
    expect(zips.dropoff_unknown).toBeGreaterThan(0);
    expect(zips.dropoff_unknown).toBeLessThan(0.02);
    expect(zips.pickup_manhattan).toBeGreaterThan(0.8);
    expect(zips.dropoff_manhattan).toBeGreaterThan(0.75);
    expect(zips.laguardia).toBeGreaterThan(0.02);
    expect(zips.jfk).toBeGreaterThan(0.02);
    expect(zips.pickup_boroughs).toBe(5);
  });

  it('prices trips like the 2016 meter: fares follow distance, JFK–Manhattan is flat', async () => {
    const fares = await one<
      Record<
        | 'fare_distance'
        | 'distance_duration'
        | 'flat_jfk'
        | 'flat_elsewhere'
        | 'median_distance'
        | 'median_fare'
        | 'same_zip_distance'
        | 'jfk_distance',
        number
      >
    >(`SELECT
        corr(fare_amount, trip_distance) AS fare_distance,
        corr(trip_distance, extract(epoch FROM tpep_dropoff_datetime - tpep_pickup_datetime)) AS distance_duration,
        count(*) FILTER (WHERE fare_amount = 52)::int AS flat_jfk,
        count(*) FILTER (WHERE fare_amount = 52 AND NOT (11430 IN (pickup_zip, dropoff_zip)))::int AS flat_elsewhere,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY trip_distance) AS median_distance,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY fare_amount) AS median_fare,
        (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY trip_distance) FROM ${T} WHERE pickup_zip = dropoff_zip) AS same_zip_distance,
        (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY trip_distance) FROM ${T} WHERE 11430 IN (pickup_zip, dropoff_zip)) AS jfk_distance
      FROM ${T}`);
    expect(fares.fare_distance).toBeGreaterThan(0.85);
    expect(fares.distance_duration).toBeGreaterThan(0.6);
    expect(fares.flat_jfk).toBeGreaterThan(100);
    expect(fares.flat_elsewhere).toBeLessThan(fares.flat_jfk / 10);
    expect(fares.median_distance).toBeGreaterThan(1);
    expect(fares.median_distance).toBeLessThan(3);
    expect(fares.median_fare).toBeGreaterThan(6);
    expect(fares.median_fare).toBeLessThan(14);
    expect(fares.same_zip_distance).toBeLessThan(1.5);
    expect(fares.jfk_distance).toBeGreaterThan(10);
    expect(fares.jfk_distance).toBeLessThan(20);
  });

  it('follows the daily demand curve: evening peak, quiet early morning, busy weekend nights', async () => {
    const hours = await one<
      Record<
        | 'weekday_evening'
        | 'weekday_early'
        | 'weekend_small_hours'
        | 'weekday_small_hours'
        | 'blizzard_saturday'
        | 'next_saturday',
        number
      >
    >(`SELECT
        count(*) FILTER (WHERE h BETWEEN 18 AND 20 AND NOT weekend)::int AS weekday_evening,
        count(*) FILTER (WHERE h BETWEEN 3 AND 5 AND NOT weekend)::int AS weekday_early,
        count(*) FILTER (WHERE h BETWEEN 0 AND 2 AND weekend)::int AS weekend_small_hours,
        count(*) FILTER (WHERE h BETWEEN 0 AND 2 AND NOT weekend)::int AS weekday_small_hours,
        count(*) FILTER (WHERE d = DATE '2016-01-23')::int AS blizzard_saturday,
        count(*) FILTER (WHERE d = DATE '2016-01-30')::int AS next_saturday
      FROM (SELECT extract(hour FROM tpep_pickup_datetime AT TIME ZONE 'UTC')::int AS h,
                   (tpep_pickup_datetime AT TIME ZONE 'UTC')::date AS d,
                   extract(isodow FROM tpep_pickup_datetime AT TIME ZONE 'UTC') IN (6, 7) AS weekend
              FROM ${T}) t`);
    expect(hours.weekday_evening).toBeGreaterThan(5 * hours.weekday_early);
    // Weekend days are 2/7 of the week but have most of the after-midnight trips.
    expect(hours.weekend_small_hours).toBeGreaterThan(hours.weekday_small_hours);
    expect(hours.blizzard_saturday).toBeLessThan(hours.next_saturday / 2);
  });
});

describe('loadSyntheticTrips', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('synthetic_load');
    await ensureSyncedTable(db.pool, target.schema, target.table);
  });
  beforeEach(() => db.pool.query(`TRUNCATE ${T}`));
  afterAll(() => db.drop());

  it('loads exactly N rows with the requested ids, in batches, equal to the generated records', async () => {
    const result = await loadSyntheticTrips(db.pool, {
      ...target,
      rows: 5000,
      seed: 9,
      startId: 1000,
      batchRows: 1800,
    });
    expect(result.rows).toBe(5000);
    expect(result.rowsPerSecond).toBeGreaterThan(0);
    const { rows } = await db.pool.query(`SELECT * FROM ${T} ORDER BY id`);
    const expected = generateTripRecords({ rows: 5000, seed: 9, startId: 1000 });
    expect(rows).toEqual(expected.map((r) => ({ ...r, id: String(r.id) })));
  });

  it('appends after existing ids, and truncate replaces the contents', async () => {
    await loadSyntheticTrips(db.pool, { ...target, rows: 300, seed: 1 });
    await loadSyntheticTrips(db.pool, { ...target, rows: 200, seed: 1, startId: 301, batchRows: 64 });
    const counted = async () =>
      (await db.pool.query(`SELECT count(*)::int AS n, min(id)::int AS lo, max(id)::int AS hi FROM ${T}`)).rows[0];
    expect(await counted()).toEqual({ n: 500, lo: 1, hi: 500 });
    await expect(loadSyntheticTrips(db.pool, { ...target, rows: 10, seed: 1, startId: 495 })).rejects.toThrow(
      /duplicate key/,
    );
    expect(await counted()).toEqual({ n: 500, lo: 1, hi: 500 });
    await loadSyntheticTrips(db.pool, { ...target, rows: 50, seed: 2, startId: 7, truncate: true });
    expect(await counted()).toEqual({ n: 50, lo: 7, hi: 56 });
    expect(await loadSyntheticTrips(db.pool, { ...target, rows: 0, truncate: true })).toMatchObject({ rows: 0 });
    expect(await counted()).toEqual({ n: 0, lo: null, hi: null });
  });

  it('loads NULLs when asked for a nullRate', async () => {
    await loadSyntheticTrips(db.pool, { ...target, rows: 4000, seed: 4, nullRate: 0.25 });
    const { rows } = await db.pool.query(`SELECT
        avg((tpep_pickup_datetime IS NULL)::int)::float AS pickup, avg((fare_amount IS NULL)::int)::float AS fare,
        avg((dropoff_zip IS NULL)::int)::float AS zip, count(*) FILTER (WHERE id IS NULL)::int AS ids FROM ${T}`);
    for (const share of [rows[0].pickup, rows[0].fare, rows[0].zip]) {
      expect(share).toBeGreaterThan(0.2);
      expect(share).toBeLessThan(0.3);
    }
    expect(rows[0].ids).toBe(0);
  });

  it('loads the sample only once when two processes bootstrap an empty table together', async () => {
    const results = await Promise.all([loadSampleIfEmpty(db.pool, target), loadSampleIfEmpty(db.pool, target)]);
    expect(results.map((r) => r.action).sort()).toEqual(['loaded', 'skipped']);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM ${T}`);
    expect(rows[0].n).toBe(DEFAULT_SAMPLE_ROWS);
  });
});
