import { loadTripStats } from '../aggregates/load.js';
import type { NumberStats, TripStats } from '../aggregates/stats.js';
import { builder } from './builder.js';
import { selectedMeasures } from './selected-measures.js';
import { TripFilterInput } from './filters.js';

export const NumberStatsRef = builder.objectRef<NumberStats>('NumberStats').implement({
  description: 'Null members where no non-null value was aggregated.',
  fields: (t) => ({
    sum: t.exposeFloat('sum', { nullable: true }),
    avg: t.exposeFloat('avg', { nullable: true }),
    min: t.exposeFloat('min', { nullable: true }),
    max: t.exposeFloat('max', { nullable: true }),
  }),
});

export const TripStatsRef = builder.objectRef<TripStats>('TripStats').implement({
  description:
    'Aggregates over a set of trips. count counts trips; the measures ignore NULL values, ' +
    'so their sums and averages are over the trips that have the value.',
  fields: (t) => ({
    count: t.field({ type: 'BigInt', nullable: false, resolve: (stats) => stats.count }),
    fareAmount: t.field({ type: NumberStatsRef, nullable: false, resolve: (stats) => stats.fareAmount }),
    tripDistance: t.field({ type: NumberStatsRef, nullable: false, resolve: (stats) => stats.tripDistance }),
    durationMinutes: t.field({
      type: NumberStatsRef,
      nullable: false,
      description: 'Minutes from pickup to dropoff; trips missing either time are left out.',
      resolve: (stats) => stats.durationMinutes,
    }),
  }),
});

builder.queryField('tripStats', (t) =>
  t.field({
    type: TripStatsRef,
    nullable: false,
    description: 'Totals over every trip that matches the filter (BI).',
    args: { filter: t.arg({ type: TripFilterInput }) },
    resolve: (_root, { filter }, ctx, info) => loadTripStats(ctx, filter, selectedMeasures(info)),
  }),
);
