import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectedIds,
  insertAtRate,
  insertTrips,
  startLiveGateway,
  TripStream,
  type LiveGateway,
  type Transport,
} from './support/live.js';

/** Each subscriber's filter beside the same predicate written by hand in SQL. */
const SUBSCRIBERS: { name: string; transport: Transport; filter: unknown; where: string }[] = [
  { name: 'everything', transport: 'distinct', filter: null, where: 'true' },
  { name: 'everything (single connection)', transport: 'single', filter: null, where: 'true' },
  {
    name: 'zip list',
    transport: 'single',
    filter: { pickupZip: { in: [10001, 11430] } },
    where: 'pickup_zip IN (10001, 11430)',
  },
  {
    name: 'not cheap, NULL fares included',
    transport: 'distinct',
    filter: { not: { fareAmount: { lt: 10 } } },
    where: '(fare_amount < 10) IS NOT TRUE',
  },
  {
    name: 'null zip or long',
    transport: 'single',
    filter: { or: [{ pickupZip: { isNull: true } }, { tripDistance: { gte: 6 } }] },
    where: 'pickup_zip IS NULL OR trip_distance >= 6',
  },
  {
    name: 'microseconds past a millisecond bound',
    transport: 'distinct',
    filter: { pickupAt: { gt: '2024-01-01T00:10:00.000Z' }, dropoffZip: { ne: 10022 } },
    where: `tpep_pickup_datetime > '2024-01-01T00:10:00.000Z' AND dropoff_zip <> 10022`,
  },
];

const RATES = [
  { perSecond: 1, count: 3 },
  { perSecond: 10, count: 20 },
  { perSecond: 100, count: 150 },
  { perSecond: 1000, count: 2500 },
];

describe('tripsAdded delivers every new row exactly once, in order', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('live_delivery', { LIVE_POLL_INTERVAL_MS: '100', LIVE_FEED_BATCH_ROWS: '200' });
    await insertTrips(
      gw.database.pool,
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
  });
  afterAll(() => gw.close());

  it('to several subscribers with different filters over both transports, at 1 to 1000 rows/s', async () => {
    const streams = SUBSCRIBERS.map(({ transport, filter }) => new TripStream(gw.client(transport), { filter }));
    await Promise.all(streams.map((stream) => stream.started()));
    for (const stream of streams) {
      // The first event comes at once, carries no rows (they were all present
      // at subscribe time) and gives the client a cursor to resume from.
      expect(stream.batches[0]!.ids).toEqual([]);
      expect(stream.batches[0]!.cursor).toMatch(/^[\w-]+$/);
    }
    const before = gw.app.live.feed.stats();
    expect(before.live).toBe(SUBSCRIBERS.length);

    let next = 51;
    for (const { perSecond, count } of RATES) {
      await insertAtRate(gw.database.pool, next, count, perSecond);
      next += count;
      for (const [index, stream] of streams.entries()) {
        const want = await expectedIds(gw.database.pool, 50, SUBSCRIBERS[index]!.where);
        await stream.until(() => stream.ids.length >= want.length, `${SUBSCRIBERS[index]!.name} at ${perSecond}/s`);
        expect(stream.ids, SUBSCRIBERS[index]!.name).toEqual(want);
      }
    }

    // One keyset statement per tick (plus one per full page of the 1000/s
    // burst), however many subscribers: filters ran in memory.
    const after = gw.app.live.feed.stats();
    const ticks = after.ticks - before.ticks;
    const statements = after.feedStatements - before.feedStatements;
    const inserted = next - 51;
    expect(statements).toBeGreaterThanOrEqual(ticks);
    expect(statements).toBeLessThanOrEqual(ticks + Math.ceil(inserted / 200));
    expect(after.catchUpStatements).toBe(0);
    for (const stream of streams) {
      expect(stream.errors).toEqual([]);
      expect(stream.completed).toBe(false);
      stream.close();
    }
  });
});
