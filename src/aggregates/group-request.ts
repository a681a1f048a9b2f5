import type { LimitsConfig } from '../config/env.js';
import { UserInputError } from '../errors.js';
import type { TripFilter } from '../trips/filter.js';
import { DIMENSIONS, type TimeUnit, type TripDimension } from './dimensions.js';
import { DEFAULT_GROUP_ORDER, type TripGroupOrder } from './group-order.js';

export interface TripGroupsArgs {
  groupBy: readonly TripDimension[];
  filter?: TripFilter | null;
  orderBy?: readonly TripGroupOrder[] | null;
  first?: number | null;
  timeZone?: string | null;
}

/** A validated tripGroups request; timeZone is still the caller's spelling (see time-zones.ts). */
export interface GroupRequest {
  dimensions: readonly TripDimension[];
  filter: TripFilter | null | undefined;
  orderBy: readonly TripGroupOrder[];
  first: number;
  timeZone: string;
  /** The time bucket asked for, if any (at most one: they share TripGroup.pickupTime). */
  unit: TimeUnit | undefined;
}

export const DEFAULT_GROUPS = 100;

export function checkGroupArgs(args: TripGroupsArgs, limits: Pick<LimitsConfig, 'maxGroups'>): GroupRequest {
  const { groupBy } = args;
  if (groupBy.length === 0) {
    throw new UserInputError('groupBy', 'must list at least one dimension; use tripStats for totals over all trips');
  }
  const seen = new Set<TripDimension>();
  for (const dimension of groupBy) {
    if (seen.has(dimension)) throw new UserInputError('groupBy', `lists ${dimension} more than once`);
    seen.add(dimension);
  }
  const buckets = groupBy.filter((dimension) => DIMENSIONS[dimension].unit !== undefined);
  if (buckets.length > 1) {
    throw new UserInputError(
      'groupBy',
      `asks for ${buckets.join(' and ')}, but a group has one pickupTime; pick one time bucket ` +
        '(PICKUP_HOUR_OF_DAY and PICKUP_DAY_OF_WEEK combine with any of them)',
    );
  }
  const first = args.first ?? DEFAULT_GROUPS;
  if (first < 0) throw new UserInputError('first', `must not be negative, got ${first}`);
  if (first > limits.maxGroups) {
    throw new UserInputError(
      'first',
      `${first} exceeds the maximum of ${limits.maxGroups} groups (MAX_GROUPS); ` +
        'narrow the filter or group by coarser dimensions',
    );
  }
  return {
    dimensions: groupBy,
    filter: args.filter,
    orderBy: args.orderBy ?? DEFAULT_GROUP_ORDER,
    first,
    timeZone: args.timeZone ?? 'UTC',
    unit: buckets[0] ? DIMENSIONS[buckets[0]].unit : undefined,
  };
}
