import { createContextCache } from '@pothos/core';
import DataLoader from 'dataloader';
import type { LimitsConfig } from '../config/env.js';
import type { Db } from '../db/database.js';
import type { TripFilter } from '../trips/filter.js';
import { parseTripFilter } from '../trips/parse-filter.js';
import { checkBucketCount } from './bucket-estimate.js';
import { bucketsPickupTime } from './dimensions.js';
import { checkGroupArgs, type TripGroupsArgs } from './group-request.js';
import {
  findPickupRange,
  findTripGroups,
  findTripStats,
  findZoneStats,
  type TripGroupRow,
  type ZoneSide,
} from './queries.js';
import { rollupNeeds } from './rollup/planner.js';
import type { FreshRollup, RollupService } from './rollup/service.js';
import type { TripGroupOrder } from './group-order.js';
import { ALL_MEASURE_STATS, EMPTY_TRIP_STATS, type MeasureStat, type TripStats } from './stats.js';
import { resolveTimeZone } from './time-zones.js';

/** What the aggregate resolvers need from the request context. */
export interface AggregateContext {
  db: Db;
  config: { limits: Pick<LimitsConfig, 'maxGroups'> };
  rollups: RollupService;
  /** Cancels the request's statements when its client goes away (GatewayContext.statementSignal). */
  statementSignal?: AbortSignal | undefined;
}

interface RequestCache {
  fresh?: Promise<FreshRollup | null>;
  zoneLoaders: Map<string, DataLoader<number, TripStats>>;
}

const requestCache = createContextCache<RequestCache, AggregateContext>(() => ({ zoneLoaders: new Map() }));

/** The rollup freshness check, run at most once per request however many aggregates it asks for. */
function freshRollup(ctx: AggregateContext): () => Promise<FreshRollup | null> {
  return () => {
    const cache = requestCache(ctx);
    cache.fresh ??= ctx.rollups.freshRollup();
    return cache.fresh;
  };
}

export async function loadTripStats(
  ctx: AggregateContext,
  filter: TripFilter | null | undefined,
  measures: ReadonlySet<MeasureStat> = ALL_MEASURE_STATS,
): Promise<TripStats> {
  const parsed = parseTripFilter(filter);
  return ctx.rollups.answer(rollupNeeds(parsed), freshRollup(ctx), (source) =>
    findTripStats(ctx.db, parsed, source, measures, ctx.statementSignal),
  );
}

/** The aggregate an ordering sorts by must be computed even when the response does not show it. */
const ORDER_MEASURES: Partial<Record<TripGroupOrder, MeasureStat>> = {
  FARE_AMOUNT_SUM_ASC: 'fare_sum',
  FARE_AMOUNT_SUM_DESC: 'fare_sum',
  FARE_AMOUNT_AVG_ASC: 'fare_avg',
  FARE_AMOUNT_AVG_DESC: 'fare_avg',
  TRIP_DISTANCE_AVG_ASC: 'distance_avg',
  TRIP_DISTANCE_AVG_DESC: 'distance_avg',
};

export async function loadTripGroups(
  ctx: AggregateContext,
  args: TripGroupsArgs,
  selected: ReadonlySet<MeasureStat> = ALL_MEASURE_STATS,
): Promise<TripGroupRow[]> {
  const request = checkGroupArgs(args, ctx.config.limits);
  const timeZone = await resolveTimeZone(ctx.db, request.timeZone);
  const filter = parseTripFilter(request.filter);
  await checkBucketCount(request.unit, filter, ctx.config.limits.maxGroups, () => findPickupRange(ctx.db));
  const measures = new Set(selected);
  for (const order of request.orderBy) {
    const measure = ORDER_MEASURES[order];
    if (measure) measures.add(measure);
  }
  const pickupBin = bucketsPickupTime(request.dimensions) ? await ctx.rollups.pickupBin(timeZone) : null;
  const query = { ...request, filter, timeZone, measures, pickupBin };
  return ctx.rollups.answer(rollupNeeds(filter, request.dimensions, timeZone), freshRollup(ctx), (source) =>
    findTripGroups(ctx.db, query, source, ctx.statementSignal),
  );
}

/**
 * The per-request loader of zone stats for one (side, filter): every Zone in
 * the response that asks for pickups (or dropoffs) with an equal filter joins
 * one batch, answered by one grouped statement. Aliases with different
 * filters get different loaders, hence one statement per distinct filter.
 */
export function zoneStatsLoader(
  ctx: AggregateContext,
  side: ZoneSide,
  filter: TripFilter | null | undefined,
): DataLoader<number, TripStats> {
  const { zoneLoaders } = requestCache(ctx);
  const parsed = parseTripFilter(filter);
  const key = `${side}:${parsed.key}`;
  let loader = zoneLoaders.get(key);
  if (!loader) {
    loader = new DataLoader<number, TripStats>(async (zips) => {
      const column = side === 'pickup' ? 'pickup_zip' : 'dropoff_zip';
      const stats = await ctx.rollups.answer(rollupNeeds(parsed, [], 'UTC', column), freshRollup(ctx), (source) =>
        findZoneStats(ctx.db, side, parsed, zips, source, ctx.statementSignal),
      );
      return zips.map((zip) => stats.get(zip) ?? EMPTY_TRIP_STATS);
    });
    zoneLoaders.set(key, loader);
  }
  return loader;
}
