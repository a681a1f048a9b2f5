import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedIds, insertTrips, startLiveGateway, TripStream, type LiveGateway } from './support/live.js';

/** pickupZone resolves through a dataloader: its shared result is not ready during the fan-out. */
const WITH_ZONES = `subscription($filter: TripFilter) {
  tripsAdded(filter: $filter) { cursor trips { tripId pickupZone { borough } } } }`;

/**
 * Shared events written to the socket by the fan-out itself
 * (server/sse/direct-events.ts) reach real graphql-sse clients as the
 * iterator chain would have sent them, in order, mixed with events that do
 * take the chain: each client's first event, results not ready yet, and
 * single-connection streams, which never go direct.
 */
describe('shared events written by the fan-out itself', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('live_direct', { LIVE_POLL_INTERVAL_MS: '3600000', LIVE_NOTIFY_CHANNEL: 'off' });
  });
  afterAll(() => gw.close());

  it('reach every distinct-connection client in order, beside clients served through the chain', async () => {
    const queens = { pickupZip: { in: [11371, 11430] } };
    const direct = [
      ...Array.from({ length: 4 }, () => new TripStream(gw.client('distinct'))),
      ...Array.from({ length: 2 }, () => new TripStream(gw.client('distinct'), { filter: queens })),
    ];
    const zones = Array.from({ length: 2 }, () => new TripStream(gw.client('distinct'), {}, WITH_ZONES));
    const single = Array.from({ length: 2 }, () => new TripStream(gw.client('single')));
    const all = [...direct, ...zones, ...single];
    await Promise.all(all.map((stream) => stream.started()));
    const before = gw.app.live.feed.stats().directEvents;

    const syncs = 5;
    for (let sync = 0; sync < syncs; sync += 1) {
      await insertTrips(
        gw.database.pool,
        Array.from({ length: 10 }, (_, i) => sync * 10 + i + 1),
      );
      gw.app.live.wake('test');
      await Promise.all(all.map((stream) => stream.until(() => stream.batches.length === sync + 2, `sync ${sync}`)));
    }

    const every = await expectedIds(gw.database.pool, 0);
    const inQueens = await expectedIds(gw.database.pool, 0, 'pickup_zip IN (11371, 11430)');
    for (const stream of [...direct.slice(0, 4), ...zones, ...single]) expect(stream.ids).toEqual(every);
    for (const stream of direct.slice(4)) expect(stream.ids).toEqual(inQueens);
    for (const stream of all) {
      expect(stream.errors).toEqual([]);
      expect(new Set(stream.batches.map((batch) => batch.cursor)).size).toBe(syncs + 1);
    }
    expect(zones[0]!.batches.at(-1)!.trips.every((trip) => typeof trip.pickupZone === 'object')).toBe(true);

    // Every event after the first of the six synchronous distinct-connection
    // subscriptions went direct; the single-connection ones never can.
    const directEvents = gw.app.live.feed.stats().directEvents - before;
    expect(directEvents).toBeGreaterThanOrEqual(direct.length * syncs);
    expect(directEvents).toBeLessThanOrEqual((direct.length + zones.length) * syncs);
    for (const stream of all) stream.close();
  });
});

/** The off switch (src/server/fast-paths/README.md): with SSE_DIRECT_WRITES=off every event takes the stream. */
describe('direct SSE writes switched off (SSE_DIRECT_WRITES=off)', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('live_direct_off', {
      LIVE_POLL_INTERVAL_MS: '3600000',
      LIVE_NOTIFY_CHANNEL: 'off',
      SSE_DIRECT_WRITES: 'off',
    });
  });
  afterAll(() => gw.close());

  it('delivers the same events in order without writing any directly', async () => {
    const streams = Array.from({ length: 3 }, () => new TripStream(gw.client('distinct')));
    await Promise.all(streams.map((stream) => stream.started()));
    const before = gw.app.live.feed.stats().directEvents;
    const syncs = 3;
    for (let sync = 0; sync < syncs; sync += 1) {
      await insertTrips(
        gw.database.pool,
        Array.from({ length: 5 }, (_, i) => sync * 5 + i + 1),
      );
      gw.app.live.wake('test');
      await Promise.all(
        streams.map((stream) => stream.until(() => stream.batches.length === sync + 2, `sync ${sync}`)),
      );
    }
    const every = await expectedIds(gw.database.pool, 0);
    for (const stream of streams) {
      expect(stream.ids).toEqual(every);
      expect(stream.errors).toEqual([]);
    }
    expect(gw.app.live.feed.stats().directEvents - before).toBe(0);
    for (const stream of streams) stream.close();
  });
});
