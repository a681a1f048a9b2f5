import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertTrips, startLiveGateway, TripStream, type LiveGateway } from './support/live.js';

const WITH_ZONES = `subscription($filter: TripFilter) {
  tripsAdded(filter: $filter) { cursor trips { tripId pickupZip pickupZone { zip borough } } } }`;

/**
 * Subscribers of the same operation share one execution per batch: selecting
 * pickupZone costs one zone lookup per batch and distinct operation, not one
 * per subscriber.
 */
describe('identical subscriptions share one execution per batch', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('live_shared', { LIVE_POLL_INTERVAL_MS: '3600000', LIVE_NOTIFY_CHANNEL: 'off' });
  });
  afterAll(() => gw.close());

  it('costs one zone statement per distinct operation, whatever the number of subscribers', async () => {
    const manhattan = { pickupZip: { in: [10001, 10011, 10019] } };
    const queens = { pickupZip: { in: [11371, 11430] } };
    const streams = [
      ...Array.from(
        { length: 15 },
        (_, i) => new TripStream(gw.client(i % 2 ? 'single' : 'distinct'), { filter: manhattan }, WITH_ZONES),
      ),
      ...Array.from(
        { length: 15 },
        (_, i) => new TripStream(gw.client(i % 2 ? 'single' : 'distinct'), { filter: queens }, WITH_ZONES),
      ),
    ];
    await Promise.all(streams.map((stream) => stream.started()));
    const { feed } = gw.app.live;
    const before = { total: gw.app.statements.total, feed: feed.stats().feedStatements };

    await insertTrips(
      gw.database.pool,
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    gw.app.live.wake('test');
    const { rows } = await gw.database.pool.query<{ zip: number; n: string }>(
      `SELECT pickup_zip AS zip, count(*) AS n FROM "default".trips_synced GROUP BY pickup_zip`,
    );
    const count = (zips: number[]) => rows.filter((r) => zips.includes(r.zip)).reduce((sum, r) => sum + Number(r.n), 0);
    await Promise.all(streams.slice(0, 15).map((stream) => stream.untilRows(count([10001, 10011, 10019]))));
    await Promise.all(streams.slice(15).map((stream) => stream.untilRows(count([11371, 11430]))));

    const feedStatements = feed.stats().feedStatements - before.feed;
    // The feed's reads are background work, not counted with the statements that serve requests.
    const zoneStatements = gw.app.statements.total - before.total;
    expect(feedStatements).toBe(1);
    expect(zoneStatements).toBe(2);

    const boroughs = new Set(
      streams
        .slice(0, 15)
        .flatMap((s) => s.batches.flatMap((b) => b.trips.map((t) => (t.pickupZone as { borough: string }).borough))),
    );
    expect([...boroughs]).toEqual(['Manhattan']);
    const queensBoroughs = new Set(
      streams
        .slice(15)
        .flatMap((s) => s.batches.flatMap((b) => b.trips.map((t) => (t.pickupZone as { borough: string }).borough))),
    );
    expect([...queensBoroughs]).toEqual(['Queens']);
    for (const stream of streams) stream.close();
  });
});
