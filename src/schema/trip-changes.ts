import type { StreamBatch, TripChangeEvent } from '../live/change-subscriber.js';
import { TripStreamTermination } from '../live/subscriber.js';
import { tripFromRow } from '../trips/trip.js';
import { builder } from './builder.js';
import { TripFilterInput } from './filters.js';
import { TripRef } from './trip.js';
import { resumeAfter } from '../server/sse/event-ids.js';

const TripChangeKind = builder.enumType('TripChangeKind', {
  values: ['INSERT', 'UPDATE', 'DELETE'] as const,
});

const TripChangeRef = builder.objectRef<TripChangeEvent>('TripChange').implement({
  description:
    'One change of a row of the synced table, as the subscriber sees it: for a filtered stream, a row that ' +
    'enters the filter is an INSERT, one that leaves it a DELETE, a change inside it an UPDATE.',
  fields: (t) => ({
    kind: t.field({ type: TripChangeKind, nullable: false, resolve: (change) => change.kind }),
    tripId: t.field({ type: 'BigInt', nullable: false, resolve: (change) => change.tripId }),
    trip: t.field({
      type: TripRef,
      nullable: true,
      description: 'The row after the change; null for DELETE.',
      resolve: (change) => (change.trip === null ? null : tripFromRow(change.trip)),
    }),
  }),
});

const TripChangeBatchRef = builder.objectRef<StreamBatch>('TripChangeBatch').implement({
  description: 'Changes since the previous batch; inside a batch at most one per trip, in id order.',
  fields: (t) => ({
    cursor: t.exposeString('cursor', {
      nullable: false,
      description: 'Resume token: pass it as after to continue after this batch.',
    }),
    changes: t.field({
      type: [TripChangeRef],
      nullable: false,
      resolve: (batch) => batch.items as readonly TripChangeEvent[],
    }),
  }),
});

builder.subscriptionField('tripChanges', (t) =>
  t.field({
    type: TripChangeBatchRef,
    nullable: false,
    description:
      'Streams the changes to the synced table (or to the rows of filter) after the position\n' +
      'given by after, or after subscribe time: INSERT and UPDATE with the row after the change,\n' +
      'DELETE with the key. Applying every batch in order to the rows read at that position\n' +
      'gives exactly the table (or the filtered view) at the last cursor: nothing lost, nothing\n' +
      'repeated, whatever the keys and the order of commits. Each batch is the net change since\n' +
      'the previous one: at most one change per trip, in id order. Pass TripConnection.streamCursor\n' +
      'as after to stream on from a page read with trips. The first batch comes at once and may be\n' +
      'empty: it carries the starting cursor. Errors as for tripsAdded (SUBSCRIBER_TOO_SLOW,\n' +
      'CURSOR_EXPIRED, SHUTTING_DOWN).',
    args: {
      filter: t.arg({ type: TripFilterInput }),
      after: t.arg.string(),
    },
    // An EventSource reconnecting after a drop says where it got to in Last-Event-ID (server/sse/event-ids.ts).
    subscribe: (_root, args, ctx) =>
      ctx.live.subscribeChanges({ ...args, ...resumeAfter(ctx.request, args.after) }) as AsyncIterable<unknown>,
    resolve: (event) => {
      if (event instanceof TripStreamTermination) throw event.error;
      return event as StreamBatch;
    },
  }),
);
