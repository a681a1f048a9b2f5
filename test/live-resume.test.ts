import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectedIds,
  insertAtRate,
  insertTrips,
  sleep,
  startLiveGateway,
  TripStream,
  type LiveGateway,
  type Transport,
} from './support/live.js';

const FILTER = { or: [{ pickupZip: { in: [10001, 10019] } }, { fareAmount: { isNull: true } }] };
const WHERE = 'pickup_zip IN (10001, 10019) OR fare_amount IS NULL';

function expectNoGapsNoDuplicates(received: string[], want: string[]): void {
  expect(new Set(received).size).toBe(received.length);
  expect(received).toEqual(want);
}

describe('tripsAdded resumes from a cursor with no row lost and none repeated', () => {
  let gw: LiveGateway;
  let next = 1;
  beforeAll(async () => {
    // Small pages and buffers, so catch-ups take many pages and rows the feed
    // delivers during a catch-up overflow what the subscriber may park.
    gw = await startLiveGateway('live_resume', {
      LIVE_POLL_INTERVAL_MS: '50',
      LIVE_FEED_BATCH_ROWS: '40',
      LIVE_SUBSCRIBER_BUFFER_ROWS: '400',
      LIVE_EVENT_MAX_ROWS: '64',
    });
    await insertTrips(
      gw.database.pool,
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    next = 101;
  });
  afterAll(() => gw.close());

  async function insertMore(count: number, perSecond: number): Promise<void> {
    const first = next;
    next += count;
    await insertAtRate(gw.database.pool, first, count, perSecond);
  }

  for (const transport of ['distinct', 'single'] as Transport[]) {
    it(`after the client is killed mid-stream while rows keep coming (${transport})`, async () => {
      const start = next - 1;
      const first = new TripStream(gw.client(transport), { filter: FILTER });
      await first.started();
      const inserting = insertMore(600, 400);
      await first.untilRows(60);
      first.close();
      const cut = first.lastCursor!;
      const receivedBefore = [...first.ids];
      await sleep(300); // rows keep arriving while nobody listens
      const second = new TripStream(gw.client(transport), { filter: FILTER, after: cut });
      await inserting;
      await insertMore(200, 1000);
      const want = await expectedIds(gw.database.pool, start, WHERE);
      const beforeCount = receivedBefore.length;
      await second.until(() => beforeCount + second.ids.length >= want.length, 'the rest of the rows');
      expectNoGapsNoDuplicates([...receivedBefore, ...second.ids], want);
      expect(second.errors).toEqual([]);
      second.close();
    });
  }

  it('from a cursor thousands of rows old, while the feed races ahead', async () => {
    const start = next - 1;
    const probe = new TripStream(gw.client('distinct'), { filter: FILTER });
    await probe.started();
    const oldCursor = probe.batches[0]!.cursor;
    probe.close();
    await insertMore(3000, 100_000);
    const catchUpsBefore = gw.app.live.feed.stats().catchUpStatements;
    const resumed = new TripStream(gw.client('single'), { filter: FILTER, after: oldCursor });
    await insertMore(1500, 1500); // arrives while the resumed subscriber is catching up
    const want = await expectedIds(gw.database.pool, start, WHERE);
    await resumed.untilRows(want.length);
    expectNoGapsNoDuplicates(resumed.ids, want);
    // Catch-up ran as pages of its own (40 rows each), not as one huge read.
    expect(gw.app.live.feed.stats().catchUpStatements - catchUpsBefore).toBeGreaterThan(10);
    for (const batch of resumed.batches) expect(batch.ids.length).toBeLessThanOrEqual(64);
    resumed.close();
  });

  it('from the streamCursor of a trips page: history by query, then the stream', async () => {
    const { body } = await gw.query<{ trips: { streamCursor: string; edges: unknown[] } }>(
      `{ trips(first: 30, orderBy: [TRIP_ID_ASC]) { streamCursor edges { cursor } } }`,
    );
    const newest = next - 1;
    await insertMore(25, 1000);
    const stream = new TripStream(gw.client('distinct'), { after: body.data!.trips.streamCursor });
    const want = await expectedIds(gw.database.pool, newest);
    await stream.untilRows(want.length);
    expectNoGapsNoDuplicates(stream.ids, want);
    stream.close();
  });

  it('not from a trips page cursor: that names a row, not a moment, and the error says how to recover', async () => {
    const { body } = await gw.query<{ trips: { pageInfo: { endCursor: string } } }>(
      `{ trips(first: 30, orderBy: [TRIP_ID_ASC]) { pageInfo { endCursor } } }`,
    );
    const stream = new TripStream(gw.client('distinct'), { after: body.data!.trips.pageInfo.endCursor });
    await stream.untilEnded();
    expect(stream.errors[0]?.extensions?.code).toBe('CURSOR_EXPIRED');
    expect(stream.errors[0]?.message).toContain('streamCursor');
  });

  it('with an empty first event when there is nothing to catch up, whose cursor resumes too', async () => {
    const first = new TripStream(gw.client('distinct'), {});
    await first.started();
    const resumed = new TripStream(gw.client('distinct'), { after: first.batches[0]!.cursor });
    await resumed.started();
    expect(resumed.batches[0]!.ids).toEqual([]);
    const start = next - 1;
    await insertMore(5, 1000);
    await resumed.untilRows(5);
    await first.untilRows(5);
    expect(resumed.ids).toEqual(await expectedIds(gw.database.pool, start));
    expect(first.ids).toEqual(resumed.ids);
    first.close();
    resumed.close();
  });
});
