import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeStreamCursor, streamIdentity } from '../src/live/stream-cursor.js';
import { startLiveGateway, TripStream, type LiveGateway, type Transport } from './support/live.js';

const base64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Each bad subscription, the error code it must get and the argument it must name. */
const BAD: { name: string; variables: Record<string, unknown>; code: string; argument?: string; query?: string }[] = [
  { name: 'garbage cursor', variables: { after: 'not a cursor!' }, code: 'BAD_USER_INPUT', argument: 'after' },
  {
    name: 'base64 but not a cursor',
    variables: { after: base64({ a: 1 }) },
    code: 'BAD_USER_INPUT',
    argument: 'after',
  },
  {
    // A page cursor names a row, not a moment of the table: streams start from streamCursor instead.
    name: 'a trips cursor of another ordering',
    variables: { after: base64([1, 'fare_amount:asc,id:asc', ['2.5', '7']]) },
    code: 'CURSOR_EXPIRED',
    argument: 'after',
  },
  {
    name: 'cursor of a retired format version',
    variables: { after: base64(['tripsAdded', 0, streamIdentity('default', 'trips_synced'), '5']) },
    code: 'CURSOR_EXPIRED',
    argument: 'after',
  },
  {
    name: 'cursor of another synced table',
    variables: { after: encodeStreamCursor(streamIdentity('default', 'other_trips'), 5n) },
    code: 'CURSOR_EXPIRED',
    argument: 'after',
  },
  {
    name: 'empty range filter',
    variables: { filter: { fareAmount: { gt: 10, lt: 5 } } },
    code: 'BAD_USER_INPUT',
    argument: 'filter.fareAmount',
  },
  {
    name: 'empty in list',
    variables: { filter: { pickupZip: { in: [] } } },
    code: 'BAD_USER_INPUT',
    argument: 'filter.pickupZip.in',
  },
  {
    name: 'mistyped variable',
    variables: { filter: { pickupZip: { eq: 'ten' } } },
    code: 'BAD_USER_INPUT',
  },
  {
    name: 'unknown field in the selection',
    variables: {},
    query: 'subscription { tripsAdded { cursor nope } }',
    code: 'GRAPHQL_VALIDATION_FAILED',
  },
];

describe('tripsAdded with bad arguments gets an error event, never a hung stream', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('live_errors', { LIVE_MAX_SUBSCRIBERS: '3' });
  });
  afterAll(() => gw.close());

  for (const transport of ['distinct', 'single'] as Transport[]) {
    for (const { name, variables, code, argument, query } of BAD) {
      it(`${name} (${transport})`, async () => {
        const stream = new TripStream(gw.client(transport), variables, query);
        await stream.untilEnded();
        expect(stream.transportError).toBeUndefined();
        expect(stream.completed).toBe(true);
        expect(stream.errors).toHaveLength(1);
        expect(stream.errors[0]!.extensions?.code).toBe(code);
        if (argument) {
          expect(stream.errors[0]!.extensions?.argument).toBe(argument);
          expect(stream.errors[0]!.message).toContain(argument);
        }
        expect(stream.batches).toEqual([]);
        expect(gw.app.live.feed.stats()).toMatchObject({ pending: 0, catchingUp: 0, live: 0 });
      });
    }
  }

  it('refuses subscribers beyond LIVE_MAX_SUBSCRIBERS with an error event', async () => {
    const held = [1, 2, 3].map(() => new TripStream(gw.client('distinct')));
    await Promise.all(held.map((stream) => stream.started()));
    const refused = new TripStream(gw.client('single'));
    await refused.untilEnded();
    expect(refused.errors[0]?.extensions?.code).toBe('TOO_MANY_SUBSCRIBERS');
    for (const stream of held) stream.close();
  });
});
