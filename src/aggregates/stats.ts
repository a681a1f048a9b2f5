import { sql, type RawBuilder } from 'kysely';
import { precompiled } from '../db/precompiled-sql.js';

/** Aggregates of one measure; each member is null when no non-null value was aggregated. */
export interface NumberStats {
  sum: number | null;
  avg: number | null;
  min: number | null;
  max: number | null;
}

export interface TripStats {
  /** Trips matched, as a decimal string (bigint). */
  count: string;
  fareAmount: NumberStats;
  tripDistance: NumberStats;
  durationMinutes: NumberStats;
}

export const MEASURES = ['fare', 'distance', 'duration'] as const;
export type Measure = (typeof MEASURES)[number];
export const ALL_MEASURES: ReadonlySet<Measure> = new Set(MEASURES);

/** A measure nobody asked for is selected as NULLs: its aggregates cost per row, the NULLs nothing. */
function skipped(measure: Measure): RawBuilder<unknown>[] {
  return (['sum', 'avg', 'min', 'max'] as const).map((fn) => sql`NULL::float8 AS ${sql.ref(`${measure}_${fn}`)}`);
}

/**
 * Per-row value of each measure on the synced table. Duration goes through the
 * interval (exact microseconds) rather than two float epochs, and is NULL when
 * either timestamp is NULL. date_part (not extract) keeps it float8: extract
 * returns numeric since Postgres 14, which sums an order of magnitude slower.
 */
export const MEASURE_EXPRESSIONS: Record<Measure, RawBuilder<number | null>> = {
  fare: sql`fare_amount`,
  distance: sql`trip_distance`,
  duration: sql`(date_part('epoch', tpep_dropoff_datetime - tpep_pickup_datetime) / 60)`,
};

/** Output columns of every stats query, one row per group (or one row in total). */
export interface StatsColumns {
  trips_count: string;
  fare_sum: number | null;
  fare_avg: number | null;
  fare_min: number | null;
  fare_max: number | null;
  distance_sum: number | null;
  distance_avg: number | null;
  distance_min: number | null;
  distance_max: number | null;
  duration_sum: number | null;
  duration_avg: number | null;
  duration_min: number | null;
  duration_max: number | null;
}

/**
 * The SELECT list over raw trips. avg is written as sum/count (not avg()) so
 * the raw table and the rollups, which only keep sums and counts, compute it
 * the same way.
 */
export function rawStatsSelection(measures: ReadonlySet<Measure> = ALL_MEASURES): RawBuilder<unknown> {
  return oncePerMeasureSet('raw-stats', measures, buildRawStatsSelection);
}

function buildRawStatsSelection(measures: ReadonlySet<Measure>): RawBuilder<unknown> {
  const parts = [sql`count(*)::int8 AS trips_count`];
  for (const measure of MEASURES) {
    if (!measures.has(measure)) {
      parts.push(...skipped(measure));
      continue;
    }
    const value = MEASURE_EXPRESSIONS[measure];
    parts.push(
      sql`sum(${value}) AS ${sql.ref(`${measure}_sum`)}`,
      sql`sum(${value}) / nullif(count(${value}), 0) AS ${sql.ref(`${measure}_avg`)}`,
      sql`min(${value}) AS ${sql.ref(`${measure}_min`)}`,
      sql`max(${value}) AS ${sql.ref(`${measure}_max`)}`,
    );
  }
  return sql.join(parts);
}

/** Partial aggregates a rollup row keeps per measure (see rollup/rollup-table.ts). */
export function rollupColumn(measure: Measure, part: 'sum' | 'nonnull' | 'min' | 'max'): string {
  return `${measure}_${part}_part`;
}

/** The same SELECT list as rawStatsSelection, recombining a rollup's partial aggregates. */
export function rollupStatsSelection(measures: ReadonlySet<Measure> = ALL_MEASURES): RawBuilder<unknown> {
  return oncePerMeasureSet('rollup-stats', measures, buildRollupStatsSelection);
}

function buildRollupStatsSelection(measures: ReadonlySet<Measure>): RawBuilder<unknown> {
  const parts = [sql`coalesce(sum(trips_part), 0)::int8 AS trips_count`];
  for (const measure of MEASURES) {
    if (!measures.has(measure)) {
      parts.push(...skipped(measure));
      continue;
    }
    const sum = sql.ref(rollupColumn(measure, 'sum'));
    const nonNull = sql.ref(rollupColumn(measure, 'nonnull'));
    parts.push(
      sql`sum(${sum}) AS ${sql.ref(`${measure}_sum`)}`,
      sql`sum(${sum}) / nullif(sum(${nonNull}), 0)::float8 AS ${sql.ref(`${measure}_avg`)}`,
      sql`min(${sql.ref(rollupColumn(measure, 'min'))}) AS ${sql.ref(`${measure}_min`)}`,
      sql`max(${sql.ref(rollupColumn(measure, 'max'))}) AS ${sql.ref(`${measure}_max`)}`,
    );
  }
  return sql.join(parts);
}

/**
 * SQL fragments that depend on the measure set alone (eight of them), built
 * and compiled once per set and name instead of on every request.
 */
const perMeasureSet = new Map<string, RawBuilder<unknown>>();

export function oncePerMeasureSet(
  name: string,
  measures: ReadonlySet<Measure>,
  build: (measures: ReadonlySet<Measure>) => RawBuilder<unknown>,
): RawBuilder<unknown> {
  const key = `${name}:${MEASURES.filter((measure) => measures.has(measure)).join(',')}`;
  let fragment = perMeasureSet.get(key);
  if (!fragment) {
    fragment = precompiled(build(measures));
    perMeasureSet.set(key, fragment);
  }
  return fragment;
}

// Runs once per group (10,000 for a large BI query). Written out field by field, with no closure: the
// TypeScript loader (tsx, esbuild keepNames) names every function created at run time with a defineProperty,
// and a closure made per row showed in the gateway's profile.
export function toTripStats(row: StatsColumns): TripStats {
  return {
    count: String(row.trips_count),
    fareAmount: { sum: row.fare_sum, avg: row.fare_avg, min: row.fare_min, max: row.fare_max },
    tripDistance: { sum: row.distance_sum, avg: row.distance_avg, min: row.distance_min, max: row.distance_max },
    durationMinutes: { sum: row.duration_sum, avg: row.duration_avg, min: row.duration_min, max: row.duration_max },
  };
}

const NO_NUMBERS: NumberStats = Object.freeze({ sum: null, avg: null, min: null, max: null });

/** Stats of zero trips (e.g. a zone nobody was picked up in). */
export const EMPTY_TRIP_STATS: TripStats = Object.freeze({
  count: '0',
  fareAmount: NO_NUMBERS,
  tripDistance: NO_NUMBERS,
  durationMinutes: NO_NUMBERS,
});
