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
  // Exposed (no resolver): graphql-jit reads a default-resolved field inline, and a BI answer has one
  // TripStats per group (up to 10,000).
  fields: (t) => ({
    count: t.expose('count', { type: 'BigInt', nullable: false }),
    fareAmount: t.expose('fareAmount', { type: NumberStatsRef, nullable: false }),
    tripDistance: t.expose('tripDistance', { type: NumberStatsRef, nullable: false }),
    durationMinutes: t.expose('durationMinutes', {
      type: NumberStatsRef,
      nullable: false,
      description: 'Minutes from pickup to dropoff; trips missing either time (or with an infinite one) are left out.',
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
