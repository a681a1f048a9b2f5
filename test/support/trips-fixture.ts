import type pg from 'pg';

/**
 * A small deterministic table that is hard to paginate: few distinct values
 * per sort key (many ties), NULLs in every nullable column, microsecond
 * timestamps (which a JS Date would truncate), and gaps in the ids.
 */
export async function insertTrickyTrips(pool: pg.Pool, count = 600): Promise<void> {
  await pool.query(
    `INSERT INTO "default".trips_synced
       (id, tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, fare_amount, pickup_zip, dropoff_zip)
     SELECT g * 3,
            p,
            CASE WHEN g % 19 = 0 THEN NULL
                 ELSE coalesce(p, timestamptz '2016-01-01 00:00:00+00' + g * interval '1 minute')
                      + ((g % 5) + 1) * interval '10 minutes' END,
            CASE WHEN g % 13 = 0 THEN NULL ELSE ((g * 31) % 12) / 2.0 END,
            CASE WHEN g % 11 = 0 THEN NULL ELSE 2.5 + ((g * 37) % 15) END,
            CASE WHEN g % 23 = 0 THEN NULL ELSE (ARRAY[10001, 10011, 10019, 11371, 11430, 10036, 99999])[g % 7 + 1] END,
            CASE WHEN g % 29 = 0 THEN NULL ELSE (ARRAY[10001, 10022, 11430, 10003, 11201])[g % 5 + 1] END
       FROM generate_series(1, $1::int) AS g,
            LATERAL (SELECT CASE WHEN g % 17 = 0 THEN NULL
                                 ELSE timestamptz '2016-01-01 00:00:00+00'
                                      + ((g * 7919) % 40) * interval '1 hour'
                                      + CASE WHEN g % 3 = 0 THEN interval '0.000123 second' ELSE interval '0' END
                            END AS p) AS pickup`,
    [count],
  );
}
