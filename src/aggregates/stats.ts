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
export const STATS = ['sum', 'avg', 'min', 'max'] as const;
export type Stat = (typeof STATS)[number];

/**
 * One aggregate of one measure, named like its output column (`fare_avg`):
 * what a statement selects. Only the aggregates a response asks for are
 * selected: each costs Postgres work per row scanned and the gateway a value
 * to read per group (a BI query for 210 ZIPs' average fare read 16 columns
 * per group when it selected whole measures, 3 now).
 */
export type MeasureStat = `${Measure}_${Stat}`;
export const MEASURE_STATS: readonly MeasureStat[] = MEASURES.flatMap((measure) =>
  STATS.map((stat): MeasureStat => `${measure}_${stat}`),
);
export const ALL_MEASURE_STATS: ReadonlySet<MeasureStat> = new Set(MEASURE_STATS);

/** The selected aggregates in their fixed order, as a memo or fragment key part. */
export function measureStatsKey(stats: ReadonlySet<MeasureStat>): string {
  return MEASURE_STATS.filter((stat) => stats.has(stat)).join(',');
}

/**
 * Per-row value of each measure on the synced table. Duration goes through the
 * interval (exact microseconds) rather than two float epochs, and is NULL when
 * either timestamp is NULL. date_part (not extract) keeps it float8: extract
 * returns numeric since Postgres 14, which sums an order of magnitude slower.
 * An infinite timestamp counts as a missing one: 'infinity' − 'infinity' is an
 * error in Postgres, so one such row would fail every duration statistic and
 * the rollups' maintenance, and any other infinite duration would turn a whole
 * table's sum into one a Float cannot carry.
 */
export const MEASURE_EXPRESSIONS: Record<Measure, RawBuilder<number | null>> = {
  fare: sql`fare_amount`,
  distance: sql`trip_distance`,
  duration: sql`(date_part('epoch', CASE WHEN isfinite(tpep_pickup_datetime) AND isfinite(tpep_dropoff_datetime) THEN tpep_dropoff_datetime - tpep_pickup_datetime END) / 60)`,
};

/**
 * Output columns of every stats query, one row per group (or one row in
 * total): the count, and the selected aggregates only (an unselected one is
 * absent from the row).
 */
export type StatsColumns = { trips_count: string } & { [S in MeasureStat]?: number | null };

/**
 * The SELECT list over raw trips. avg is computed from the sum and the count by float8_avg, avg()'s own final
 * function, so the raw table and the rollups (which only keep sums and counts) compute it the same way, and as
 * avg() does: the float8 `/` operator raises "value out of range: underflow" where a quotient rounds to zero
 * (a fare of 5e-324 beside a 0), which failed the whole answer while avg() answers 0.
 */
export function rawStatsSelection(stats: ReadonlySet<MeasureStat> = ALL_MEASURE_STATS): RawBuilder<unknown> {
  return oncePerStatSet('raw-stats', stats, buildRawStatsSelection);
}

function buildRawStatsSelection(stats: ReadonlySet<MeasureStat>): RawBuilder<unknown> {
  return selectStats(sql`count(*)::int8 AS trips_count`, stats, (measure) => {
    const value = MEASURE_EXPRESSIONS[measure];
    return {
      sum: sql`sum(${value})`,
      avg: averageOf(sql`count(${value})`, sql`sum(${value})`),
      min: sql`min(${value})`,
      max: sql`max(${value})`,
    };
  });
}

/**
 * Sum ÷ count as avg() divides: float8_avg takes avg()'s state (N, Sx, Sxx; Sxx unused) and answers NULL for no
 * values, with no underflow check. Its array may hold no NULL: a sum over no values is NULL, and so is a
 * recombined count over no rollup rows.
 */
function averageOf(count: RawBuilder<unknown>, sum: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`float8_avg(ARRAY[coalesce(${count}, 0)::float8, coalesce(${sum}, 0)::float8, 0])`;
}

/** The count, then each selected aggregate as its column, in MEASURE_STATS order. */
function selectStats(
  count: RawBuilder<unknown>,
  stats: ReadonlySet<MeasureStat>,
  expressions: (measure: Measure) => Record<Stat, RawBuilder<unknown>>,
): RawBuilder<unknown> {
  const parts = [count];
  for (const measure of MEASURES) {
    const wanted = STATS.filter((stat) => stats.has(`${measure}_${stat}`));
    if (wanted.length === 0) continue;
    const expression = expressions(measure);
    for (const stat of wanted) parts.push(sql`${expression[stat]} AS ${sql.ref(`${measure}_${stat}`)}`);
  }
  return sql.join(parts);
}

export const ROLLUP_PARTS = ['sum', 'nonnull', 'min', 'max'] as const;
export type RollupPart = (typeof ROLLUP_PARTS)[number];

/** Partial aggregates a rollup row keeps per measure (see rollup/rollup-table.ts). */
export function rollupColumn(measure: Measure, part: RollupPart): string {
  return `${measure}_${part}_part`;
}

/** How one partial combines over rollup rows (or first-stage rows): sums and counts add, extremes take theirs. */
export function recombinedPart(measure: Measure, part: RollupPart): RawBuilder<unknown> {
  const column = sql.ref(rollupColumn(measure, part));
  return part === 'min' ? sql`min(${column})` : part === 'max' ? sql`max(${column})` : sql`sum(${column})`;
}

/** The partials an aggregate is recombined from: an average needs the sum and the count of non-null values. */
export const PARTS_OF: Record<Stat, readonly RollupPart[]> = {
  sum: ['sum'],
  avg: ['sum', 'nonnull'],
  min: ['min'],
  max: ['max'],
};

/** The same SELECT list as rawStatsSelection, recombining a rollup's partial aggregates. */
export function rollupStatsSelection(stats: ReadonlySet<MeasureStat> = ALL_MEASURE_STATS): RawBuilder<unknown> {
  return oncePerStatSet('rollup-stats', stats, buildRollupStatsSelection);
}

function buildRollupStatsSelection(stats: ReadonlySet<MeasureStat>): RawBuilder<unknown> {
  return selectStats(sql`coalesce(sum(trips_part), 0)::int8 AS trips_count`, stats, (measure) => {
    const part = (name: RollupPart) => recombinedPart(measure, name);
    return {
      sum: part('sum'),
      avg: averageOf(part('nonnull'), part('sum')),
      min: part('min'),
      max: part('max'),
    };
  });
}

/**
 * SQL fragments that depend on the selected aggregates alone, built and
 * compiled once per set and name instead of on every request.
 */
const perStatSet = new Map<string, RawBuilder<unknown>>();

export function oncePerStatSet(
  name: string,
  stats: ReadonlySet<MeasureStat>,
  build: (stats: ReadonlySet<MeasureStat>) => RawBuilder<unknown>,
): RawBuilder<unknown> {
  const key = `${name}:${measureStatsKey(stats)}`;
  let fragment = perStatSet.get(key);
  if (!fragment) {
    fragment = precompiled(build(stats));
    perStatSet.set(key, fragment);
  }
  return fragment;
}

// Runs once per group (10,000 for a large BI query). Written out field by field, with no closure: the
// TypeScript loader (tsx, esbuild keepNames) names every function created at run time with a defineProperty,
// and a closure made per row showed in the gateway's profile.
// An aggregate the statement did not select comes back null: the response never reads it (only selected
// fields are resolved), and null keeps the TripStats shape whole.
export function toTripStats(row: StatsColumns): TripStats {
  return {
    count: String(row.trips_count),
    fareAmount: {
      sum: row.fare_sum ?? null,
      avg: row.fare_avg ?? null,
      min: row.fare_min ?? null,
      max: row.fare_max ?? null,
    },
    tripDistance: {
      sum: row.distance_sum ?? null,
      avg: row.distance_avg ?? null,
      min: row.distance_min ?? null,
      max: row.distance_max ?? null,
    },
    durationMinutes: {
      sum: row.duration_sum ?? null,
      avg: row.duration_avg ?? null,
      min: row.duration_min ?? null,
      max: row.duration_max ?? null,
    },
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
