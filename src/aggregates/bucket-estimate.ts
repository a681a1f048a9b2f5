import { UserInputError } from '../errors.js';
import { mapConditions, type FieldTable, type FilterNode, type ParsedTripFilter } from '../trips/parse-filter.js';
import type { TimeUnit } from './dimensions.js';

export interface TimeRange {
  lower: Date;
  upper: Date;
}

/** `none`: every matching row's pickup is NULL (pickupAt isNull: true): one group at most, whatever the table holds. */
type Bounds = { lower?: Date; upper?: Date; none?: boolean };

/** The pickupAt bounds each field imposes on every matching row; only pickupAt has any. */
const FIELD_BOUNDS: FieldTable<Bounds> = {
  pickupAt: (range) => ({
    lower: [range.gt, range.gte].reduce<Date | undefined>((a, b) => (b && (!a || b > a) ? b : a), undefined),
    upper: [range.lt, range.lte].reduce<Date | undefined>((a, b) => (b && (!a || b < a) ? b : a), undefined),
    none: range.isNull === true,
  }),
  tripId: () => ({}),
  dropoffAt: () => ({}),
  pickupZip: () => ({}),
  dropoffZip: () => ({}),
  fareAmount: () => ({}),
  tripDistance: () => ({}),
  pickupBorough: () => ({}),
  dropoffBorough: () => ({}),
};

/**
 * The pickupAt bounds a filter imposes on every matching row: those of the
 * filter itself and of its `and` branches. `or` and `not` cannot narrow the
 * range for certain, so they are ignored (the estimate stays an upper bound).
 */
export function pickupBounds(filter: ParsedTripFilter): Bounds {
  const bounds: Bounds = {};
  const visit = (node: FilterNode | undefined) => {
    if (!node) return;
    for (const { lower, upper, none } of mapConditions(node, FIELD_BOUNDS)) {
      if (lower && (!bounds.lower || lower > bounds.lower)) bounds.lower = lower;
      if (upper && (!bounds.upper || upper < bounds.upper)) bounds.upper = upper;
      if (none) bounds.none = true;
    }
    for (const child of node.and ?? []) visit(child);
  };
  visit(filter.root);
  return bounds;
}

const HOUR_MS = 3_600_000;
const UNIT_MS: Record<Exclude<TimeUnit, 'month'>, number> = {
  hour: HOUR_MS,
  day: 24 * HOUR_MS,
  week: 7 * 24 * HOUR_MS,
};

/**
 * At most how many buckets of `unit` a time range touches, in any time zone:
 * the partial buckets at both ends count, and local days may be 23 hours long.
 */
export function estimateBuckets(unit: TimeUnit, range: TimeRange): number {
  const span = range.upper.getTime() - range.lower.getTime();
  if (span < 0) return 0;
  if (unit === 'month') {
    const months =
      (range.upper.getUTCFullYear() - range.lower.getUTCFullYear()) * 12 +
      (range.upper.getUTCMonth() - range.lower.getUTCMonth());
    return months + 2;
  }
  const length = unit === 'hour' ? UNIT_MS.hour : UNIT_MS[unit] - HOUR_MS;
  return Math.floor(span / length) + 2;
}

/**
 * Refuses a time bucketing that would produce more groups than the cap before
 * any aggregate runs: grouping ten years by hour would otherwise scan
 * everything only to return an arbitrary first page (or time out).
 * `dataRange` is consulted only when the filter leaves an end open.
 */
export async function checkBucketCount(
  unit: TimeUnit | undefined,
  filter: ParsedTripFilter,
  maxGroups: number,
  dataRange: () => Promise<TimeRange | null>,
): Promise<void> {
  if (!unit) return;
  const bounds = pickupBounds(filter);
  if (bounds.none) return;
  let { lower, upper } = bounds;
  if (!lower || !upper) {
    const data = await dataRange();
    if (!data) return;
    lower = lower && lower > data.lower ? lower : data.lower;
    upper = upper && upper < data.upper ? upper : data.upper;
  }
  const estimate = estimateBuckets(unit, { lower, upper });
  if (estimate <= maxGroups) return;
  throw new UserInputError(
    'groupBy',
    `grouping by ${unit} from ${lower.toISOString()} to ${upper.toISOString()} would produce about ` +
      `${estimate} time buckets, more than the limit of ${maxGroups} groups (MAX_GROUPS); ` +
      'narrow filter.pickupAt (gte/lt) or use a coarser time bucket',
  );
}
