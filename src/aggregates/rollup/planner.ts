import type { TripFilter } from '../../trips/filter.js';
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
 * Which rollup key columns a filter reads, or null when the filter cannot be
 * answered exactly from hourly partial aggregates. Every condition must hold
 * for all trips of a rollup row or for none of them:
 * - any condition on pickupZip / dropoffZip (they are keys);
 * - pickupAt isNull, and gte / lt at a whole UTC hour (pickup >= 10:00 holds
 *   for a whole 10:00 bucket or none of it; pickup > 10:00 splits it);
 * - any condition on fareAmount (a key of the fare grain);
 * - any condition on pickupBorough / dropoffBorough, served by a borough
 *   grain's column or by a ZIP grain (boroughs are sets of ZIPs);
 * - and / or / not of such conditions.
 * Anything on distances, dropoff time or trip ids needs the raw rows.
 * Only reads the filter; compiling and validating it stays with compileTripFilter.
 */
export function filterColumns(
  filter: TripFilter | null | undefined,
): { columns: Set<KeyColumn>; boroughs: Set<BoroughColumn> } | null {
  const columns = new Set<KeyColumn>();
  const boroughs = new Set<BoroughColumn>();
  const given = (spec: object | null | undefined) =>
    spec ? Object.entries(spec).filter(([, value]) => value !== null && value !== undefined) : [];
  const visit = (node: TripFilter | null | undefined): boolean => {
    if (!node) return true;
    for (const field of ['tripId', 'dropoffAt', 'tripDistance'] as const) {
      if (given(node[field]).length > 0) return false;
    }
    if (given(node.pickupZip).length > 0) columns.add('pickup_zip');
    if (given(node.dropoffZip).length > 0) columns.add('dropoff_zip');
    if (given(node.fareAmount).length > 0) columns.add('fare_amount');
    if (given(node.pickupBorough).length > 0) boroughs.add('pickup_borough');
    if (given(node.dropoffBorough).length > 0) boroughs.add('dropoff_borough');
    const pickupAt = given(node.pickupAt);
    for (const [operator, value] of pickupAt) {
      const hourAligned = value instanceof Date && value.getTime() % HOUR_MS === 0;
      if (!(operator === 'isNull' || ((operator === 'gte' || operator === 'lt') && hourAligned))) return false;
    }
    if (pickupAt.length > 0) columns.add('tpep_pickup_datetime');
    return [...(node.and ?? []), ...(node.or ?? []), node.not].every(visit);
  };
  return visit(filter) ? { columns, boroughs } : null;
}

/** Needs of a tripStats, tripGroups or Zone.pickups/dropoffs query; null when only the raw table can answer. */
export function rollupNeeds(
  filter: TripFilter | null | undefined,
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
