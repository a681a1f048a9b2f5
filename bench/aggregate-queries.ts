/**
 * The five BI queries of the aggregates benchmark (issue 3), each as the
 * GraphQL a dashboard sends and as the plain GROUP BY a BI tool would run on
 * the synced table without the gateway.
 */
import { NYC_ZIP_ZONES } from '../src/zones/nyc-zip-codes.js';

export interface BenchQuery {
  name: string;
  title: string;
  graphql: string;
  /** Hand-written SQL over the synced table; $TRIPS and $ZONES are replaced by the qualified table names. */
  rawSql: string;
  rawParams?: unknown[];
}

const MANHATTAN = NYC_ZIP_ZONES.filter((zone) => zone.borough === 'Manhattan').map((zone) => zone.zip);
const NEW_YORK_WEEK = { gte: '2016-01-11T05:00:00Z', lt: '2016-01-18T05:00:00Z' };
const NEW_YORK_JANUARY = { gte: '2016-01-01T05:00:00Z', lt: '2016-02-01T05:00:00Z' };

export const BENCH_QUERIES: readonly BenchQuery[] = [
  {
    name: 'zip-all',
    title: 'count and avg fare by pickup ZIP, all data',
    graphql: `{ tripGroups(groupBy: [PICKUP_ZIP], first: 300) { pickupZip stats { count fareAmount { avg } } } }`,
    rawSql: `SELECT pickup_zip, count(*) AS count, avg(fare_amount) AS avg_fare FROM $TRIPS
              GROUP BY pickup_zip ORDER BY count DESC, pickup_zip LIMIT 300`,
  },
  {
    name: 'zip-week',
    title: 'count and avg fare by pickup ZIP, one week',
    graphql: `{ tripGroups(groupBy: [PICKUP_ZIP], first: 300,
                filter: { pickupAt: { gte: "${NEW_YORK_WEEK.gte}", lt: "${NEW_YORK_WEEK.lt}" } }) {
                pickupZip stats { count fareAmount { avg } } } }`,
    rawSql: `SELECT pickup_zip, count(*) AS count, avg(fare_amount) AS avg_fare FROM $TRIPS
              WHERE tpep_pickup_datetime >= $1 AND tpep_pickup_datetime < $2
              GROUP BY pickup_zip ORDER BY count DESC, pickup_zip LIMIT 300`,
    rawParams: [NEW_YORK_WEEK.gte, NEW_YORK_WEEK.lt],
  },
  {
    name: 'borough-hour-of-day',
    title: 'trips by hour of day for one borough (Manhattan, New York time)',
    graphql: `{ tripGroups(groupBy: [PICKUP_HOUR_OF_DAY], orderBy: [KEY_ASC], first: 24, timeZone: "America/New_York",
                filter: { pickupBorough: { eq: "Manhattan" } }) {
                pickupHourOfDay stats { count fareAmount { avg } } } }`,
    rawSql: `SELECT extract(hour FROM t.tpep_pickup_datetime AT TIME ZONE 'America/New_York') AS hour,
                    count(*) AS count, avg(t.fare_amount) AS avg_fare
               FROM $TRIPS t JOIN $ZONES z ON z.zip = t.pickup_zip
              WHERE z.borough = 'Manhattan' GROUP BY 1 ORDER BY 1`,
  },
  {
    name: 'borough-hour-of-day-zips',
    title: 'the same, with the borough written as its list of ZIPs',
    graphql: `{ tripGroups(groupBy: [PICKUP_HOUR_OF_DAY], orderBy: [KEY_ASC], first: 24, timeZone: "America/New_York",
                filter: { pickupZip: { in: [${MANHATTAN.join(', ')}] } }) {
                pickupHourOfDay stats { count fareAmount { avg } } } }`,
    rawSql: `SELECT extract(hour FROM tpep_pickup_datetime AT TIME ZONE 'America/New_York') AS hour,
                    count(*) AS count, avg(fare_amount) AS avg_fare FROM $TRIPS
              WHERE pickup_zip = ANY($1::int4[]) GROUP BY 1 ORDER BY 1`,
    rawParams: [MANHATTAN],
  },
  {
    name: 'borough-hour-of-day-grouped',
    title: 'trips by hour of day per borough (New York time), one query for every borough',
    graphql: `{ tripGroups(groupBy: [PICKUP_BOROUGH, PICKUP_HOUR_OF_DAY], orderBy: [KEY_ASC], first: 200,
                timeZone: "America/New_York") {
                pickupBorough pickupHourOfDay stats { count fareAmount { avg } } } }`,
    rawSql: `SELECT z.borough, extract(hour FROM t.tpep_pickup_datetime AT TIME ZONE 'America/New_York') AS hour,
                    count(*) AS count, avg(t.fare_amount) AS avg_fare
               FROM $TRIPS t LEFT JOIN $ZONES z ON z.zip = t.pickup_zip
              GROUP BY 1, 2 ORDER BY 1 NULLS LAST, 2 NULLS LAST`,
  },
  {
    name: 'daily-month-ny',
    title: 'daily totals over a month in America/New_York',
    graphql: `{ tripGroups(groupBy: [PICKUP_DAY], orderBy: [KEY_ASC], first: 31, timeZone: "America/New_York",
                filter: { pickupAt: { gte: "${NEW_YORK_JANUARY.gte}", lt: "${NEW_YORK_JANUARY.lt}" } }) {
                pickupTime stats { count fareAmount { sum avg } tripDistance { sum } } } }`,
    rawSql: `SELECT date_trunc('day', tpep_pickup_datetime, 'America/New_York') AS day, count(*) AS count,
                    sum(fare_amount) AS fare, avg(fare_amount) AS avg_fare, sum(trip_distance) AS distance
               FROM $TRIPS WHERE tpep_pickup_datetime >= $1 AND tpep_pickup_datetime < $2 GROUP BY 1 ORDER BY 1`,
    rawParams: [NEW_YORK_JANUARY.gte, NEW_YORK_JANUARY.lt],
  },
  {
    name: 'fare-range-stats',
    title: 'tripStats with a fare range ($10 to $20)',
    graphql: `{ tripStats(filter: { fareAmount: { gte: 10, lt: 20 } }) {
                count fareAmount { sum avg min max } tripDistance { avg } durationMinutes { avg } } }`,
    rawSql: `SELECT count(*) AS count, sum(fare_amount) AS fare, avg(fare_amount) AS avg_fare, min(fare_amount) AS min_fare,
                    max(fare_amount) AS max_fare, avg(trip_distance) AS avg_distance,
                    avg(date_part('epoch', tpep_dropoff_datetime - tpep_pickup_datetime) / 60) AS avg_minutes
               FROM $TRIPS WHERE fare_amount >= 10 AND fare_amount < 20`,
  },
];
