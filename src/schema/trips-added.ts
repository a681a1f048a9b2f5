import type { TripRow } from '../db/tables.js';
import type { StreamBatch } from '../live/change-subscriber.js';
import { TripStreamTermination, type TripBatch } from '../live/subscriber.js';
import { builder } from './builder.js';
import { TripFilterInput } from './filters.js';
import { tripFromRow } from '../trips/trip.js';
import { TripRef } from './trip.js';
import { resumeAfter } from '../server/sse/event-ids.js';

/** A batch of either feed: the exact one (items) or the key high-water fallback (trips). */
type AddedBatch = TripBatch | StreamBatch;

const rowsOf = (batch: AddedBatch): readonly TripRow[] =>
  'trips' in batch ? batch.trips : (batch.items as readonly TripRow[]);

const TripBatchRef = builder.objectRef<AddedBatch>('TripBatch').implement({
  description:
    'Trips that appeared in the synced table after the previous batch (in the order rows became visible); ' +
    'inside a batch, in id order.',
  fields: (t) => ({
    // The feed keeps column names (its filter matcher reads them); Trip wants field names.
    trips: t.field({ type: [TripRef], nullable: false, resolve: (batch) => rowsOf(batch).map(tripFromRow) }),
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
      'Streams every row that appears in the synced table after the position given by after\n' +
      '(or after subscribe time), exactly once, whatever its id and whatever order the\n' +
      'writing transactions commit in: the cursor is a position in the order rows became\n' +
      'visible, not an id. A row deleted and inserted again appears again; a snapshot\n' +
      'refresh that rewrites unchanged rows brings none. Inside a batch, trips are in id order.\n' +
      'Each batch carries a cursor; subscribing again with after: <last cursor received>\n' +
      'resumes with no row lost and none repeated. after also takes TripConnection.streamCursor.\n' +
      'The first batch comes at once and may be empty: it carries the starting cursor.\n' +
      'A client that falls LIVE_SUBSCRIBER_BUFFER_ROWS behind gets a SUBSCRIBER_TOO_SLOW error\n' +
      'event (extensions.cursor says where to resume) and the stream completes; a cursor older\n' +
      'than the change record keeps gets CURSOR_EXPIRED.',
    args: {
      filter: t.arg({ type: TripFilterInput }),
      after: t.arg.string(),
    },
    // An EventSource reconnecting after a drop says where it got to in Last-Event-ID (server/sse/event-ids.ts).
    subscribe: (_root, args, ctx) =>
      ctx.live.subscribeAdded({ ...args, ...resumeAfter(ctx.request, args.after) }) as AsyncIterable<unknown>,
    resolve: (event) => {
      if (event instanceof TripStreamTermination) throw event.error;
      return event as AddedBatch;
    },
  }),
);
