import { DEFAULT_ORDER_BY, loadTripConnection, type TripConnection } from '../trips/connection.js';
import { TRIP_ORDER_BY } from '../trips/ordering.js';
import { findTripsByIds } from '../trips/queries.js';
import type { Trip } from '../trips/trip.js';
import { builder } from './builder.js';
import { selectsField } from './selects-field.js';
import { TripFilterInput } from './filters.js';
import { PageInfoRef } from './page-info.js';
import { ZoneRef } from './zone.js';

const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

/** How a global id's key is read (node.ts): its canonical form for the loader, or undefined when it names nothing. */
export interface NodeKey {
  parse(key: string): string | undefined;
  /** What a valid key looks like, for the error. */
  meaning: string;
}

/**
 * A Trip's key is its primary key, the int8 `id` of the synced table: any value the id field can return, negative
 * ones included (trip(tripId:) takes the same range), so `Trip:-1` is a valid id that names no trip.
 */
export const TRIP_NODE_KEY: NodeKey = {
  parse: (key) => {
    if (!/^-?\d{1,19}$/.test(key)) return undefined;
    const value = BigInt(key);
    return value >= INT8_MIN && value <= INT8_MAX ? value.toString() : undefined;
  },
  meaning: 'a Trip key is a 64-bit integer in decimal, such as 21932',
};

export const TripOrderByEnum = builder.enumType('TripOrderBy', {
  description:
    'Orderings for trips. The primary key always breaks ties, so every ordering is total. NULL sorts last ascending, first descending.',
  values: TRIP_ORDER_BY,
});

// Trip objects carry the GraphQL field names (src/trips/trip.ts), so the plain
// fields are exposed without resolvers.
export const TripRef = builder.loadableNode('Trip', {
  id: { resolve: (trip: Trip) => trip.tripId },
  // Ids arrive as int8 decimals: from node(id:)/nodes(ids:) through TRIP_NODE_KEY (node.ts), from trip(tripId:)
  // through the BigInt scalar. One result per id, in order; null where absent.
  load: async (ids: string[], ctx) => {
    const byId = new Map((await findTripsByIds(ctx.db, ids, ctx.statementSignal)).map((trip) => [trip.tripId, trip]));
    return ids.map((id) => byId.get(id) ?? null);
  },
  fields: (t) => ({
    tripId: t.expose('tripId', { type: 'BigInt', nullable: false }),
    pickupAt: t.expose('pickupAt', { type: 'DateTime' }),
    dropoffAt: t.expose('dropoffAt', { type: 'DateTime' }),
    tripDistance: t.exposeFloat('tripDistance', { description: 'Miles.' }),
    fareAmount: t.exposeFloat('fareAmount', { description: 'US dollars.' }),
    pickupZip: t.exposeInt('pickupZip'),
    dropoffZip: t.exposeInt('dropoffZip'),
    durationMinutes: t.float({
      description:
        'Minutes between pickup and dropoff, from the millisecond instants pickupAt and dropoffAt show (tripStats.durationMinutes uses the stored microseconds).',
      // Number(): an Instant is a Date or ±Infinity; an infinite trip's duration is a Float it cannot carry, and
      // the answer says so (error masking) rather than fail.
      resolve: ({ pickupAt: start, dropoffAt: end }) =>
        start !== null && end !== null ? (Number(end) - Number(start)) / 60_000 : null,
    }),
    pickupZone: t.field({ type: ZoneRef, resolve: (trip) => trip.pickupZip }),
    dropoffZone: t.field({ type: ZoneRef, resolve: (trip) => trip.dropoffZip }),
  }),
});

const TripEdgeRef = builder.objectRef<TripConnection['edges'][number]>('TripEdge').implement({
  fields: (t) => ({
    cursor: t.exposeString('cursor', { nullable: false }),
    // Read as a plain property once built (readPlainFields in index.ts): this resolver only says what it returns.
    node: t.field({ type: TripRef, nullable: false, resolve: (edge) => edge.node }),
  }),
});

const TripConnectionRef = builder.objectRef<TripConnection>('TripConnection').implement({
  fields: (t) => ({
    edges: t.field({ type: [TripEdgeRef], nullable: false, resolve: (c) => c.edges }),
    pageInfo: t.field({ type: PageInfoRef, nullable: false, resolve: (c) => c.pageInfo }),
    totalCount: t.field({
      type: 'BigInt',
      nullable: false,
      description: 'Number of trips matching the filter, ignoring pagination.',
      resolve: (c) => c.totalCount(),
    }),
    streamCursor: t.string({
      nullable: false,
      description:
        'The live-stream position this page was read at: pass it as after to tripChanges or tripsAdded\n' +
        'to get every change after this read, exactly once.',
      resolve: (c, _args, ctx) => {
        if (!c.streamRead) throw new Error('streamCursor was selected but the page was read without its position');
        return ctx.live.cursorOfRead(c.streamRead);
      },
    }),
  }),
});

builder.queryFields((t) => ({
  trip: t.field({
    type: TripRef,
    description: 'One trip by its primary key; null when absent.',
    args: { tripId: t.arg({ type: 'BigInt', required: true }) },
    resolve: (_root, { tripId }) => tripId,
  }),
  trips: t.field({
    type: TripConnectionRef,
    nullable: false,
    description:
      'Trips as a Relay connection with keyset (cursor) pagination.\n' +
      'Every ordering is made total by the primary key, so pages never skip or\n' +
      'repeat rows. first/last are capped (MAX_PAGE_SIZE, default 1000); asking for more\n' +
      'is an error, not a silent truncation.',
    args: {
      first: t.arg.int(),
      after: t.arg.string(),
      last: t.arg.int(),
      before: t.arg.string(),
      filter: t.arg({ type: TripFilterInput }),
      orderBy: t.arg({ type: [TripOrderByEnum], defaultValue: [...DEFAULT_ORDER_BY] }),
    },
    resolve: (_root, args, ctx, info) =>
      loadTripConnection(ctx.db, args, ctx.config.limits, {
        streamRead: selectsField(info, 'streamCursor') ? ctx.live.readPosition : undefined,
        signal: ctx.statementSignal,
      }),
  }),
}));
