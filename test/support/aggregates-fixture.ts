import type pg from 'pg';

/**
 * Trips for aggregate tests: NULLs in every nullable column, a ZIP outside the
 * reference list (99999, null borough), a ZIP whose trips all lack a fare
 * (10282), pickups around the 2015/2016 year end (ISO week 53 of 2015 runs
 * Dec 28 - Jan 3) and around both 2016 New York DST changes (Mar 13: 23-hour
 * day, Nov 6: 25-hour day).
 */
export async function insertAggregateTrips(pool: pg.Pool, count = 1800, firstId = 1): Promise<void> {
  await pool.query(
    `INSERT INTO "default".trips_synced
       (id, tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, fare_amount, pickup_zip, dropoff_zip)
     SELECT $2::int8 + g - 1,
            p,
            CASE WHEN g % 19 = 0 THEN NULL ELSE p + ((g % 7) + 1) * interval '5 minutes 30.5 seconds' END,
            CASE WHEN g % 13 = 0 THEN NULL ELSE ((g * 31) % 25) / 2.0 END,
            CASE WHEN g % 11 = 0 THEN NULL ELSE 2.5 + ((g * 37) % 40) * 0.5 END,
            CASE WHEN g % 23 = 0 THEN NULL
                 WHEN g % 22 = 0 THEN 10282
                 ELSE (ARRAY[10001, 10011, 10019, 11371, 11430, 10036, 99999, 11201, 10451])[g % 9 + 1] END,
            CASE WHEN g % 29 = 0 THEN NULL ELSE (ARRAY[10001, 10022, 11430, 10003, 11201, 10314])[g % 6 + 1] END
       FROM generate_series(1, $1::int) AS g,
            LATERAL (SELECT CASE
                WHEN g % 31 = 0 THEN NULL
                WHEN g % 3 = 0 THEN timestamptz '2015-12-24 00:00:00+00' + ((g * 7919) % 480) * interval '1 hour'
                WHEN g % 3 = 1 THEN timestamptz '2016-03-12 00:00:00+00' + ((g * 37) % 72) * interval '1 hour'
                ELSE timestamptz '2016-11-05 00:00:00+00' + ((g * 41) % 72) * interval '1 hour'
              END + (g % 60) * interval '1 minute' + (g % 7) * interval '1.25 second' AS p) AS pickup`,
    [count, firstId],
  );
  // Both 01:xx hours of the New York fall-back night, and both sides of the spring-forward gap.
  await pool.query(
    `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, fare_amount,
                                        pickup_zip, dropoff_zip)
     SELECT $1::int8 + n, p, p + interval '12 minutes', 1.5 * n, 4 * n, 10001, 11430
       FROM unnest($2::timestamptz[]) WITH ORDINALITY AS u(p, n)`,
    [
      firstId + count,
      [
        '2016-11-06T05:10:00Z',
        '2016-11-06T05:50:00Z',
        '2016-11-06T06:10:00Z',
        '2016-11-06T06:50:00Z',
        '2016-03-13T06:30:00Z',
        '2016-03-13T07:30:00Z',
      ],
    ],
  );
}
