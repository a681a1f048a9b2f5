import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { cancellableBy } from '../db/cancellable-driver.js';
import type { Db } from '../db/database.js';
import { precompiled } from '../db/precompiled-sql.js';
import { memoizedStatement } from '../db/statement-memo.js';
import { compileTripFilter } from '../trips/filter.js';
import type { ParsedTripFilter } from '../trips/parse-filter.js';
import type { TimeRange } from './bucket-estimate.js';
import {
  bucketsPickupTime,
  DIMENSIONS,
  dimensionExpression,
  type BoroughColumn,
  type TripDimension,
} from './dimensions.js';
import { groupOrderTerms, type TripGroupOrder } from './group-order.js';
import { GRAINS, type Grain } from './rollup/grains.js';
import { WHOLE_HOUR_SPAN, type PickupBin } from './time-zones.js';
import {
  ALL_MEASURE_STATS,
  MEASURE_EXPRESSIONS,
  MEASURES,
  measureStatsKey,
  type MeasureStat,
  oncePerStatSet,
  PARTS_OF,
  recombinedPart,
  rawStatsSelection,
  rollupColumn,
  ROLLUP_PARTS,
  type RollupPart,
  rollupStatsSelection,
  STATS,
  toTripStats,
  type StatsColumns,
  type TripStats,
} from './stats.js';

/**
 * Where an aggregate is computed: the synced table itself, or one grain of the
 * rollup, proven fresh by the caller beforehand or, with `proof`, by the same
 * statement (RollupService.answer).
 */
export type AggregateSource = { kind: 'raw' } | { kind: 'rollup'; grain: Grain; proof?: StatementProof };

/** A condition the statement checks in its own snapshot (RollupService's freshness proof). */
export interface StatementProof {
  readonly condition: RawBuilder<SqlBool>;
  /** Equal for two proofs only when their text and parameters are equal: part of the statement's memo key. */
  readonly key: string;
}
export const RAW: AggregateSource = Object.freeze({ kind: 'raw' });

/**
 * An answer, and what the source's `proof` said in the statement's own
 * snapshot: true, the rollup equalled the table as it was read; false, it did
 * not; null, no proof was asked for, or no row came back to carry it.
 */
export interface Sourced<T> {
  value: T;
  proven: boolean | null;
}

interface ProofColumn {
  proven?: boolean;
}

/** The proof as one more column: an uncorrelated subquery, evaluated once per statement. */
function proofColumn(source: AggregateSource): RawBuilder<unknown>[] {
  return source.kind === 'rollup' && source.proof ? [sql`${source.proof.condition} AS proven`] : [];
}

/**
 * A statement's memo key (db/statement-memo.ts): its kind, the source (grain
 * and proof) and the caller's parts, which must be everything else that
 * decides the text and parameters. Joined by NUL, which no part contains:
 * filter keys are JSON (which escapes it), the rest are names and numbers.
 */
function memoKey(kind: string, source: AggregateSource, parts: readonly string[]): string {
  const from = source.kind === 'raw' ? 'raw' : `rollup:${source.grain}:${source.proof?.key ?? ''}`;
  return [kind, from, ...parts].join('\u0000');
}

function provenBy(rows: readonly ProofColumn[]): boolean | null {
  return rows[0]?.proven ?? null;
}

type BoroughJoin = 'pz' | 'dz';

function fromClause(source: AggregateSource, joins: ReadonlySet<BoroughJoin>): RawBuilder<unknown> {
  const table = source.kind === 'raw' ? sql`${sql.table('trips')}` : sql`${sql.table('trip_rollup')}`;
  return sql`${table} ${boroughJoins(joins)}`;
}

/**
 * The ZIP reference table joined for borough dimensions. It has no column
 * named like the trip columns, so unqualified names (the filter's, the
 * dimensions') still resolve to the trips, rollup or first-stage side.
 */
function boroughJoins(joins: ReadonlySet<BoroughJoin>): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [];
  if (joins.has('pz')) parts.push(sql`LEFT JOIN ${sql.table('zip_zones')} AS pz ON pz.zip = pickup_zip`);
  if (joins.has('dz')) parts.push(sql`LEFT JOIN ${sql.table('zip_zones')} AS dz ON dz.zip = dropoff_zip`);
  return sql.join(parts, sql` `);
}

/** A borough grain carries boroughs as columns; elsewhere they come from the ZIP reference table. */
function sourceBoroughColumns(source: AggregateSource): Set<BoroughColumn> {
  return new Set(
    source.kind === 'rollup'
      ? GRAINS[source.grain].filter(
          (key): key is BoroughColumn => key === 'pickup_borough' || key === 'dropoff_borough',
        )
      : [],
  );
}

/** The filter (validated and compiled by the shared TripFilter compiler) plus the rollup grain. */
function whereClause(
  source: AggregateSource,
  filter: ParsedTripFilter,
  extra: RawBuilder<SqlBool>[] = [],
): RawBuilder<unknown> {
  const parts: (RawBuilder<SqlBool> | ReturnType<typeof compileTripFilter>)[] = [...extra];
  if (source.kind === 'rollup') parts.unshift(sql<SqlBool>`grain = ${sql.lit(source.grain)}`);
  const compiled = compileTripFilter(filter, { boroughColumns: sourceBoroughColumns(source) });
  if (compiled) parts.push(compiled);
  return parts.length ? sql.join(parts, sql` AND `) : sql`true`;
}

function statsSelection(source: AggregateSource, stats: ReadonlySet<MeasureStat>): RawBuilder<unknown> {
  return source.kind === 'raw' ? rawStatsSelection(stats) : rollupStatsSelection(stats);
}

/** Totals over the trips matching the filter: always exactly one row. */
export async function findTripStats(
  db: Db,
  filter: ParsedTripFilter,
  source: AggregateSource = RAW,
  measures: ReadonlySet<MeasureStat> = ALL_MEASURE_STATS,
  signal?: AbortSignal,
): Promise<Sourced<TripStats>> {
  const statement = memoizedStatement(
    db,
    memoKey('stats', source, [measureStatsKey(measures), filter.key]),
    () =>
      sql<StatsColumns & ProofColumn>`
      SELECT ${sql.join([statsSelection(source, measures), ...proofColumn(source)])}
      FROM ${fromClause(source, new Set())}
      WHERE ${whereClause(source, filter)}`,
  );
  const { rows } = await db.executeQuery(cancellableBy(statement, signal));
  const row = rows[0];
  if (!row) throw new Error('findTripStats: an aggregate without GROUP BY returned no row');
  return { value: toTripStats(row), proven: provenBy(rows) };
}

export interface TripGroupQuery {
  dimensions: readonly TripDimension[];
  filter: ParsedTripFilter;
  orderBy: readonly TripGroupOrder[];
  first: number;
  /** Canonical name from pg_timezone_names (see time-zones.ts). */
  timeZone: string;
  /** Aggregates to compute (`fare_avg`, …); the others come back null. Default: all. */
  measures?: ReadonlySet<MeasureStat>;
  /**
   * UTC bins that map onto whole local bins in the zone (pickupBinFor): time
   * buckets over the synced table may then be computed from them (firstStage).
   */
  pickupBin?: PickupBin | null;
}

/** One group; the fields of dimensions not asked for are null. */
export interface TripGroupRow {
  pickupZip: number | null;
  dropoffZip: number | null;
  pickupBorough: string | null;
  dropoffBorough: string | null;
  pickupTime: Date | null;
  pickupHourOfDay: number | null;
  pickupDayOfWeek: number | null;
  stats: TripStats;
}

type RawGroupRow = StatsColumns & ProofColumn & Record<`k${number}`, unknown>;

function inputColumn(dimension: TripDimension, boroughColumns: ReadonlySet<BoroughColumn>): string {
  const { borough, column } = DIMENSIONS[dimension];
  return borough && boroughColumns.has(borough) ? borough : column;
}

/** When the dimensions read every key of the grain, its rows are already one per input: no first stage needed. */
function readsEveryKey(
  grain: Grain,
  dimensions: readonly TripDimension[],
  boroughColumns: ReadonlySet<BoroughColumn>,
): boolean {
  const read = new Set(dimensions.map((dimension) => inputColumn(dimension, boroughColumns)));
  return GRAINS[grain].every((key) => read.has(key));
}

/**
 * Pickup times binned in UTC, inside the span where the zone is known to map
 * such bins onto whole local ones; outside it, the exact instant (rare rows,
 * each its own group, bucketed exactly by the second stage).
 */
const pickupBinned = (width: string) =>
  precompiled(
    sql`CASE WHEN tpep_pickup_datetime >= ${sql.lit(WHOLE_HOUR_SPAN.from.toISOString())}::timestamptz
              AND tpep_pickup_datetime < ${sql.lit(WHOLE_HOUR_SPAN.to.toISOString())}::timestamptz
             THEN date_bin(${sql.lit(width)}, tpep_pickup_datetime, ${sql.lit(WHOLE_HOUR_SPAN.from.toISOString())}::timestamptz)
             ELSE tpep_pickup_datetime END`,
  );
const PICKUP_BINNED: Record<PickupBin, RawBuilder<unknown>> = {
  hour: pickupBinned('1 hour'),
  'quarter-hour': pickupBinned('15 minutes'),
};

/**
 * The first stage's partial aggregates of the measures asked for, named like
 * a rollup's so rollupStatsSelection recombines them: computed from the
 * trips' own values, or recombined from a rollup grain's partials.
 */
function buildPartials(kind: AggregateSource['kind'], stats: ReadonlySet<MeasureStat>): RawBuilder<unknown> {
  return sql.join([
    kind === 'raw' ? sql`count(*) AS trips_part` : sql`sum(trips_part) AS trips_part`,
    ...MEASURES.flatMap((measure) => {
      // The partials the selected aggregates of this measure recombine from (an average: sum and non-null count).
      const needed = new Set(STATS.filter((stat) => stats.has(`${measure}_${stat}`)).flatMap((stat) => PARTS_OF[stat]));
      const value = MEASURE_EXPRESSIONS[measure];
      const fromTrips: Record<RollupPart, RawBuilder<unknown>> = {
        sum: sql`sum(${value})`,
        nonnull: sql`count(${value})`,
        min: sql`min(${value})`,
        max: sql`max(${value})`,
      };
      return ROLLUP_PARTS.filter((part) => needed.has(part)).map(
        (part) =>
          sql`${kind === 'raw' ? fromTrips[part] : recombinedPart(measure, part)} AS ${sql.ref(rollupColumn(measure, part))}`,
      );
    }),
  ]);
}

const buildRawPartials = (stats: ReadonlySet<MeasureStat>) => buildPartials('raw', stats);
const buildRollupPartials = (stats: ReadonlySet<MeasureStat>) => buildPartials('rollup', stats);

/**
 * The source pre-aggregated to just the columns the dimensions read; the
 * second stage then buckets and joins per input row, not per source row.
 * - A rollup grain: the time zone arithmetic and the borough join run once
 *   per hour or ZIP instead of once per rollup row (a borough's hours of day:
 *   1,440 hours instead of 70 ZIPs x 1,440 hours).
 * - The synced table, when the dimensions bucket time in a zone with
 *   whole-hour offsets: the trips are aggregated per UTC hour (plain
 *   arithmetic) and only those hours are converted to local time. Converting
 *   every row's instant was most of the cost of a raw time bucketing (days of
 *   a month at 10M rows: 0.85 s instead of 3.2-4.4 s); every instant of a UTC
 *   hour falls in the same local hour there. Zones with quarter-hour offsets
 *   (Kolkata, Kathmandu, Adelaide) get UTC quarter hours, for the same reason.
 */
function firstStage(
  source: AggregateSource,
  query: TripGroupQuery,
  joins: ReadonlySet<BoroughJoin>,
  boroughColumns: ReadonlySet<BoroughColumn>,
): RawBuilder<unknown> {
  const columns = [...new Set(query.dimensions.map((d) => inputColumn(d, boroughColumns)))].map((column) =>
    source.kind === 'raw' && column === 'tpep_pickup_datetime' && query.pickupBin
      ? sql`${PICKUP_BINNED[query.pickupBin]} AS tpep_pickup_datetime`
      : sql.ref(column),
  );
  const partials =
    source.kind === 'raw'
      ? oncePerStatSet('raw-partials', query.measures ?? ALL_MEASURE_STATS, buildRawPartials)
      : oncePerStatSet('rollup-partials', query.measures ?? ALL_MEASURE_STATS, buildRollupPartials);
  // Grouped by position: by name, GROUP BY would take the table's own tpep_pickup_datetime.
  return sql`(
      SELECT ${sql.join([...columns, partials])}
        FROM ${fromClause(source, new Set())}
       WHERE ${whereClause(source, query.filter)}
       GROUP BY ${sql.join(columns.map((_, index) => sql.lit(index + 1)))}
    ) AS r ${boroughJoins(joins)}`;
}

/**
 * Every field of a TripGroupQuery as it goes into the statement's memo key. A
 * record over the interface's keys: a field added to TripGroupQuery does not
 * compile until it is part of the key.
 */
const GROUP_QUERY_PARTS: { readonly [F in keyof Required<TripGroupQuery>]: (query: TripGroupQuery) => string } = {
  dimensions: (query) => query.dimensions.join(','),
  filter: (query) => query.filter.key,
  orderBy: (query) => query.orderBy.join(','),
  first: (query) => String(query.first),
  timeZone: (query) => query.timeZone,
  measures: (query) => measureStatsKey(query.measures ?? ALL_MEASURE_STATS),
  pickupBin: (query) => query.pickupBin ?? '',
};
const GROUP_QUERY_KEY = Object.values(GROUP_QUERY_PARTS);

/** The grouped statement findTripGroups runs (memoized by every part of the query and source). */
function groupStatement(query: TripGroupQuery, source: AggregateSource): RawBuilder<RawGroupRow> {
  const boroughColumns = sourceBoroughColumns(source);
  const keys = query.dimensions.map(
    (dimension, index) =>
      sql`${dimensionExpression(dimension, query.timeZone, boroughColumns)} AS ${sql.ref(`k${index}`)}`,
  );
  const joins = new Set(
    query.dimensions.flatMap((dimension) => {
      const { borough, join } = DIMENSIONS[dimension];
      return join && !(borough && boroughColumns.has(borough)) ? [join] : [];
    }),
  );
  const measures = query.measures ?? ALL_MEASURE_STATS;
  const staged =
    source.kind === 'rollup'
      ? !readsEveryKey(source.grain, query.dimensions, boroughColumns)
      : Boolean(query.pickupBin) && bucketsPickupTime(query.dimensions);
  return sql<RawGroupRow>`
    SELECT ${sql.join([
      ...keys,
      // A first stage yields partials, which recombine like a rollup's.
      staged ? rollupStatsSelection(measures) : statsSelection(source, measures),
      ...proofColumn(source),
    ])}
    FROM ${
      staged
        ? firstStage(source, query, joins, boroughColumns)
        : sql`${fromClause(source, joins)} WHERE ${whereClause(source, query.filter)}`
    }
    GROUP BY ${sql.join(query.dimensions.map((_, index) => sql.ref(`k${index}`)))}
    ORDER BY ${sql.join(groupOrderTerms(query.orderBy, query.dimensions.length))}
    LIMIT ${query.first}`;
}

/** One grouped statement: keys k0..kN in groupBy order, the stats, ordered totally and limited. */
export async function findTripGroups(
  db: Db,
  query: TripGroupQuery,
  source: AggregateSource = RAW,
  signal?: AbortSignal,
): Promise<Sourced<TripGroupRow[]>> {
  if (query.first === 0) return { value: [], proven: null };
  const key = memoKey(
    'groups',
    source,
    GROUP_QUERY_KEY.map((part) => part(query)),
  );
  const statement = memoizedStatement(db, key, () => groupStatement(query, source));
  const { rows } = await db.executeQuery(cancellableBy(statement, signal));
  const groups = rows.map((row) => {
    const group: TripGroupRow = {
      pickupZip: null,
      dropoffZip: null,
      pickupBorough: null,
      dropoffBorough: null,
      pickupTime: null,
      pickupHourOfDay: null,
      pickupDayOfWeek: null,
      stats: toTripStats(row),
    };
    query.dimensions.forEach((dimension, index) => {
      (group as unknown as Record<string, unknown>)[DIMENSIONS[dimension].field] = row[`k${index}`] ?? null;
    });
    return group;
  });
  return { value: groups, proven: provenBy(rows) };
}

export type ZoneSide = 'pickup' | 'dropoff';

/** Stats of trips picked up (or dropped off) in each ZIP: one grouped statement for any number of ZIPs. */
export async function findZoneStats(
  db: Db,
  side: ZoneSide,
  filter: ParsedTripFilter,
  zips: readonly number[],
  source: AggregateSource = RAW,
  signal?: AbortSignal,
): Promise<Sourced<Map<number, TripStats>>> {
  if (zips.length === 0) return { value: new Map(), proven: null };
  const column = sql.ref(side === 'pickup' ? 'pickup_zip' : 'dropoff_zip');
  const key = memoKey('zones', source, [side, zips.join(','), filter.key]);
  const statement = memoizedStatement(
    db,
    key,
    () => sql<StatsColumns & ProofColumn & { zip: number }>`
      SELECT ${sql.join([sql`${column} AS zip`, statsSelection(source, ALL_MEASURE_STATS), ...proofColumn(source)])}
      FROM ${fromClause(source, new Set())}
      WHERE ${whereClause(source, filter, [sql<SqlBool>`${column} = ANY(${zips}::int4[])`])}
      GROUP BY ${column}`,
  );
  const { rows } = await db.executeQuery(cancellableBy(statement, signal));
  return { value: new Map(rows.map((row) => [row.zip, toTripStats(row)])), proven: provenBy(rows) };
}

/**
 * First and last finite pickup instants, to bound a time bucketing whose filter
 * leaves an end open. Two index probes with the recommended pickup index
 * (docs/aggregates.md); a full scan without it. Rows at 'infinity' or
 * '-infinity' add at most two buckets, which the estimate leaves out; with
 * them in the range, every time bucketing would be refused as endless.
 */
export async function findPickupRange(db: Db): Promise<TimeRange | null> {
  const trips = sql.table('trips');
  const { rows } = await sql<{ lower: Date | null; upper: Date | null }>`
    SELECT (SELECT min(tpep_pickup_datetime) FROM ${trips} WHERE tpep_pickup_datetime > '-infinity') AS lower,
           (SELECT max(tpep_pickup_datetime) FROM ${trips} WHERE tpep_pickup_datetime < 'infinity') AS upper`.execute(
    db,
  );
  const row = rows[0];
  return row?.lower && row.upper ? { lower: row.lower, upper: row.upper } : null;
}
