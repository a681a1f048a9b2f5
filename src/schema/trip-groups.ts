import { DIMENSIONS, TRIP_DIMENSIONS } from '../aggregates/dimensions.js';
import { DEFAULT_GROUP_ORDER, TRIP_GROUP_ORDERS } from '../aggregates/group-order.js';
import { DEFAULT_GROUPS } from '../aggregates/group-request.js';
import { loadTripGroups } from '../aggregates/load.js';
import type { TripGroupRow } from '../aggregates/queries.js';
import { builder } from './builder.js';
import { selectedMeasures } from './selected-measures.js';
import { TripFilterInput } from './filters.js';
import { TripStatsRef } from './trip-stats.js';

export const TripDimensionEnum = builder.enumType('TripDimension', {
  description: 'What tripGroups groups by. Time dimensions are computed in the query\u2019s timeZone.',
  values: Object.fromEntries(
    TRIP_DIMENSIONS.map((dimension) => [dimension, { description: DIMENSIONS[dimension].description }]),
  ) as Record<(typeof TRIP_DIMENSIONS)[number], { description: string }>,
});

const ORDER_DESCRIPTIONS: Record<(typeof TRIP_GROUP_ORDERS)[number], string> = {
  COUNT_ASC: 'Fewest trips first.',
  COUNT_DESC: 'Most trips first.',
  FARE_AMOUNT_SUM_ASC: 'Smallest fare total first; groups without fares last.',
  FARE_AMOUNT_SUM_DESC: 'Largest fare total first; groups without fares last.',
  FARE_AMOUNT_AVG_ASC: 'Lowest average fare first; groups without fares last.',
  FARE_AMOUNT_AVG_DESC: 'Highest average fare first; groups without fares last.',
  TRIP_DISTANCE_AVG_ASC: 'Shortest average distance first; groups without distances last.',
  TRIP_DISTANCE_AVG_DESC: 'Longest average distance first; groups without distances last.',
  KEY_ASC: 'By the group key: the dimensions in groupBy order, ascending, NULL last.',
  KEY_DESC: 'By the group key: the dimensions in groupBy order, descending, NULL last.',
};

export const TripGroupOrderEnum = builder.enumType('TripGroupOrder', {
  description: 'Orderings of groups. Ties are broken by the group key (KEY_ASC), so the order is always total.',
  values: Object.fromEntries(
    TRIP_GROUP_ORDERS.map((order) => [order, { description: ORDER_DESCRIPTIONS[order] }]),
  ) as Record<(typeof TRIP_GROUP_ORDERS)[number], { description: string }>,
});

const TripGroupRef = builder.objectRef<TripGroupRow>('TripGroup').implement({
  description:
    'One group: the dimensions asked for are set, the others are null. A NULL value of a dimension ' +
    '(no ZIP, a ZIP outside the reference list for boroughs, no pickup time) forms a group of its own.',
  fields: (t) => ({
    pickupZip: t.exposeInt('pickupZip', { nullable: true }),
    dropoffZip: t.exposeInt('dropoffZip', { nullable: true }),
    pickupBorough: t.exposeString('pickupBorough', { nullable: true }),
    dropoffBorough: t.exposeString('dropoffBorough', { nullable: true }),
    pickupTime: t.expose('pickupTime', {
      type: 'DateTime',
      nullable: true,
      description: 'Start of the time bucket (hour, day, ISO week or month).',
    }),
    pickupHourOfDay: t.exposeInt('pickupHourOfDay', { nullable: true, description: '0-23.' }),
    pickupDayOfWeek: t.exposeInt('pickupDayOfWeek', {
      nullable: true,
      description: 'ISO day of week, 1 = Monday ... 7 = Sunday.',
    }),
    stats: t.expose('stats', { type: TripStatsRef, nullable: false }),
  }),
});

builder.queryField('tripGroups', (t) =>
  t.field({
    type: [TripGroupRef],
    nullable: false,
    description:
      'Grouped aggregates (BI): one group per distinct combination of the\n' +
      'requested dimensions. Time buckets are computed in timeZone (IANA name).\n' +
      'first is capped by MAX_GROUPS (default 10,000), and a time bucketing that\n' +
      'would produce more buckets than that over the filtered time range is refused.',
    args: {
      groupBy: t.arg({ type: [TripDimensionEnum], required: true }),
      filter: t.arg({ type: TripFilterInput }),
      orderBy: t.arg({ type: [TripGroupOrderEnum], defaultValue: [...DEFAULT_GROUP_ORDER] }),
      first: t.arg.int({ defaultValue: DEFAULT_GROUPS }),
      timeZone: t.arg.string({ defaultValue: 'UTC' }),
    },
    resolve: (_root, args, ctx, info) => loadTripGroups(ctx, args, selectedMeasures(info, 'stats')),
  }),
);
