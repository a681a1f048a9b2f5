import { zoneStatsLoader } from '../aggregates/load.js';
import { builder } from './builder.js';
import { TripFilterInput } from './filters.js';
import { TripStatsRef } from './trip-stats.js';
import { ZoneRef } from './zone.js';

builder.objectFields(ZoneRef, (t) => ({
  pickups: t.field({
    type: TripStatsRef,
    nullable: false,
    description:
      'Stats of trips picked up in this zone (batched across zones: one statement per distinct filter in a request).',
    args: { filter: t.arg({ type: TripFilterInput }) },
    resolve: (zone, { filter }, ctx) => zoneStatsLoader(ctx, 'pickup', filter).load(zone.zip),
  }),
  dropoffs: t.field({
    type: TripStatsRef,
    nullable: false,
    description:
      'Stats of trips dropped off in this zone (batched across zones: one statement per distinct filter in a request).',
    args: { filter: t.arg({ type: TripFilterInput }) },
    resolve: (zone, { filter }, ctx) => zoneStatsLoader(ctx, 'dropoff', filter).load(zone.zip),
  }),
}));
