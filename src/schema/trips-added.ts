import { TripStreamTermination, type TripBatch } from '../live/subscriber.js';
import { builder } from './builder.js';
import { TripFilterInput } from './filters.js';
import { tripFromRow } from '../trips/trip.js';
import { TripRef } from './trip.js';
import { resumeAfter } from '../server/sse/event-ids.js';

const TripBatchRef = builder.objectRef<TripBatch>('TripBatch').implement({
  description: 'Trips that appeared in the synced table, in primary-key order.',
  fields: (t) => ({
    // The feed keeps column names (its filter matcher reads them); Trip wants field names.
    trips: t.field({ type: [TripRef], nullable: false, resolve: (batch) => batch.trips.map(tripFromRow) }),
    cursor: t.exposeString('cursor', {
      nullable: false,
      description: 'Resume token: pass it as after to continue after this batch.',
    }),
  }),
});

builder.subscriptionField('tripsAdded', (t) =>
  t.field({
    type: TripBatchRef,
    nullable: false,
    description:
      'Streams trips as they appear in the synced table, in primary-key order,\n' +
      'in batches. Each batch carries a cursor; subscribing again with\n' +
      'after: <last cursor received> resumes with no row lost and none repeated.\n' +
      'Without after, the stream starts at the newest row present at subscribe time.\n' +
      'The first batch comes at once and may be empty: it carries the starting cursor.\n' +
      'after also accepts a trips(orderBy: [TRIP_ID_ASC]) cursor. A client that falls\n' +
      'LIVE_SUBSCRIBER_BUFFER_ROWS behind gets a SUBSCRIBER_TOO_SLOW error event\n' +
      '(extensions.cursor says where to resume) and the stream completes.',
    args: {
      filter: t.arg({ type: TripFilterInput }),
      after: t.arg.string(),
    },
    // An EventSource reconnecting after a drop says where it got to in Last-Event-ID (server/sse/event-ids.ts).
    subscribe: (_root, args, ctx) => ctx.tripFeed.subscribe({ ...args, after: resumeAfter(ctx.request, args.after) }),
    resolve: (event) => {
      if (event instanceof TripStreamTermination) throw event.error;
      return event;
    },
  }),
);
