import { mapConditions, type FieldTable, type FilterNode, type ParsedTripFilter } from '../../trips/parse-filter.js';
import { DIMENSIONS, type BoroughColumn, type KeyColumn, type TripDimension } from '../dimensions.js';
import { GRAIN_NAMES, GRAINS, type Grain, type RollupKey } from './grains.js';

/** What a query needs from a rollup: the key columns it reads, and the zone its time expressions use. */
export interface RollupNeeds {
  columns: ReadonlySet<KeyColumn>;
  /** Borough dimensions: a grain serves one with the borough column, or with the ZIP column and a join. */
  boroughs?: ReadonlySet<BoroughColumn>;
  /** Set when hours are turned into local buckets, hours of day or days of week; the zone must keep whole-hour offsets. */
  timeZone?: string;
}

const HOUR_MS = 3_600_000;

/**
 * What a rollup row must have for one field's conditions to hold for all of
 * its trips or for none: a key column, a borough (a borough grain's column,
 * or a ZIP grain, boroughs being sets of ZIPs), nothing, or `raw` when only
 * the raw rows can tell.
 */
type FieldNeed = { column: KeyColumn } | { borough: BoroughColumn } | 'raw';

const FIELD_NEEDS: FieldTable<FieldNeed> = {
  // Distances, dropoff times and trip ids vary inside a rollup row.
  tripId: () => 'raw',
  dropoffAt: () => 'raw',
  tripDistance: () => 'raw',
  // isNull, and gte / lt at a whole UTC hour: pickup >= 10:00 holds for a whole 10:00 bucket or none of it;
  // pickup > 10:00 splits it.
  pickupAt: (conditions) => {
    for (const [operator, value] of Object.entries(conditions)) {
      const hourAligned = value instanceof Date && value.getTime() % HOUR_MS === 0;
      if (!(operator === 'isNull' || ((operator === 'gte' || operator === 'lt') && hourAligned))) return 'raw';
    }
    return { column: 'tpep_pickup_datetime' };
  },
  pickupZip: () => ({ column: 'pickup_zip' }),
  dropoffZip: () => ({ column: 'dropoff_zip' }),
  // A key of the fare grain.
  fareAmount: () => ({ column: 'fare_amount' }),
  pickupBorough: () => ({ borough: 'pickup_borough' }),
  dropoffBorough: () => ({ borough: 'dropoff_borough' }),
};

/**
 * Which rollup key columns a filter reads, or null when the filter cannot be
 * answered exactly from hourly partial aggregates: every condition (FIELD_NEEDS),
 * and every and / or / not of them, must hold for all trips of a rollup row or
 * for none of them.
 */
export function filterColumns(
  filter: ParsedTripFilter,
): { columns: Set<KeyColumn>; boroughs: Set<BoroughColumn> } | null {
  const columns = new Set<KeyColumn>();
  const boroughs = new Set<BoroughColumn>();
  const visit = (node: FilterNode | undefined): boolean => {
    if (!node) return true;
    for (const need of mapConditions(node, FIELD_NEEDS)) {
      if (need === 'raw') return false;
      if ('column' in need) columns.add(need.column);
      else boroughs.add(need.borough);
    }
    return [...(node.and ?? []), ...(node.or ?? []), node.not].every(visit);
  };
  return visit(filter.root) ? { columns, boroughs } : null;
}

/** Needs of a tripStats, tripGroups or Zone.pickups/dropoffs query; null when only the raw table can answer. */
export function rollupNeeds(
  filter: ParsedTripFilter,
  dimensions: readonly TripDimension[] = [],
  timeZone = 'UTC',
  zoneColumn?: 'pickup_zip' | 'dropoff_zip',
): RollupNeeds | null {
  const read = filterColumns(filter);
  if (!read) return null;
  const { columns, boroughs } = read;
  if (zoneColumn) columns.add(zoneColumn);
  let zoned = false;
  for (const dimension of dimensions) {
    const { column, borough } = DIMENSIONS[dimension];
    if (borough) boroughs.add(borough);
    else columns.add(column);
    if (column === 'tpep_pickup_datetime') zoned = true;
  }
  return zoned && timeZone !== 'UTC' ? { columns, boroughs, timeZone } : { columns, boroughs };
}

function zipOf(borough: BoroughColumn): KeyColumn {
  return borough === 'pickup_borough' ? 'pickup_zip' : 'dropoff_zip';
}

/** The smallest grain whose keys cover the needed columns, or null. */
export function chooseGrain(needs: RollupNeeds, grainRows: Readonly<Record<string, number>>): Grain | null {
  let best: Grain | null = null;
  for (const grain of GRAIN_NAMES) {
    const keys: readonly RollupKey[] = GRAINS[grain];
    if (![...needs.columns].every((column) => keys.includes(column))) continue;
    if (![...(needs.boroughs ?? [])].every((b) => keys.includes(b) || keys.includes(zipOf(b)))) continue;
    if (best === null || (grainRows[grain] ?? Infinity) < (grainRows[best] ?? Infinity)) best = grain;
  }
  return best;
}
