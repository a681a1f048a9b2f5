import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedIds, startLiveGateway, TripStream, type LiveGateway, type Transport } from './support/live.js';
import { payloadOf, RawSseSubscription, type SseEvent } from './support/raw-sse.js';

// Every field, so that each row weighs ~250 bytes on the wire and a client
// that stops reading fills the socket buffers quickly.
const FAT = `subscription($after: String) { tripsAdded(after: $after) { cursor trips {
  tripId pickupAt dropoffAt tripDistance fareAmount pickupZip dropoffZip durationMinutes } } }`;

interface Received {
  ids: string[];
  cursors: string[];
  errors: { message: string; extensions?: Record<string, unknown> }[];
  completed: boolean;
}

async function rawSubscriber(origin: string, mode: Transport) {
  const received: Received = { ids: [], cursors: [], errors: [], completed: false };
  const subscription = await RawSseSubscription.open({
    origin,
    mode,
    query: FAT,
    onEvent: (event: SseEvent) => {
      if (event.event === 'complete') {
        received.completed = true;
        return;
      }
      const result = payloadOf(event, mode) as {
        data?: { tripsAdded: { cursor: string; trips: { tripId: string }[] } } | null;
        errors?: { message: string; extensions?: Record<string, unknown> }[];
      };
      if (result.errors) received.errors.push(...result.errors);
      if (result.data?.tripsAdded) {
        received.cursors.push(result.data.tripsAdded.cursor);
        received.ids.push(...result.data.tripsAdded.trips.map((trip) => trip.tripId));
      }
    },
  });
  return { subscription, received };
}

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a client that stops reading', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('live_backpressure', {
      LIVE_POLL_INTERVAL_MS: '50',
      LIVE_SUBSCRIBER_BUFFER_ROWS: '5000',
      LIVE_FEED_BATCH_ROWS: '1000',
    });
  });
  afterAll(() => gw.close());

  it('is cut off past its bound with a resumable error, while others get every row; resuming loses nothing', async () => {
    const fast = new TripStream(gw.client('distinct'), {}, FAT);
    await fast.started();
    const slow = await Promise.all(
      (['distinct', 'single'] as Transport[]).map((mode) => rawSubscriber(gw.origin, mode)),
    );
    await until(() => slow.every((s) => s.received.cursors.length > 0), 'the slow clients to start');
    for (const { subscription } of slow) subscription.pause();

    // 12 syncs of 6,000 rows; the fast client keeps up with each one.
    const total = 72_000;
    for (let first = 1; first <= total; first += 6000) {
      await gw.database.pool.query(
        `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, fare_amount, pickup_zip, dropoff_zip)
         SELECT g, now(), now() + interval '12 minutes', 2.5, 11.5, 10001, 11430 FROM generate_series($1::int, $2::int) g`,
        [first, first + 5999],
      );
      await fast.untilRows(first + 5999, 60_000);
    }
    const all = await expectedIds(gw.database.pool, 0);
    expect(fast.ids).toEqual(all);
    expect(fast.errors).toEqual([]);

    // Both slow clients were released from the feed while still connected.
    const stats = gw.app.live.feed.stats();
    expect(stats.live).toBe(1);
    expect(stats.queuedRows).toBe(0);

    for (const [index, { subscription, received }] of slow.entries()) {
      subscription.resume();
      await until(() => received.completed, `slow client ${index} to read its terminal error`);
      expect(received.errors).toHaveLength(1);
      const error = received.errors[0]!;
      expect(error.extensions?.code).toBe('SUBSCRIBER_TOO_SLOW');
      const cursor = error.extensions?.cursor as string;
      expect(cursor).toBe(received.cursors.at(-1));
      expect(error.message).toContain(cursor);
      expect(received.ids.length).toBeLessThan(total);

      const resumed = new TripStream(gw.client('single'), { after: cursor }, FAT);
      await resumed.untilRows(total - received.ids.length, 60_000);
      expect([...received.ids, ...resumed.ids]).toEqual(all);
      resumed.close();
      subscription.close();
    }
    fast.close();
  }, 240_000);
});
