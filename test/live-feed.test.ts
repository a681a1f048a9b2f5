import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/env.js';
import { parseLiveConfig } from '../src/config/live.js';
import { createDb, type Db } from '../src/db/database.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { streamIdentity } from '../src/live/stream-cursor.js';
import { TripStreamTermination, type TripBatch, type TripStreamEvent } from '../src/live/subscriber.js';
import { TripFeed } from '../src/live/trip-feed.js';
import { silentLogger } from '../src/logger.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { expectedIds, insertTrips } from './support/live.js';

/** The feed driven directly (no HTTP), where the moments subscribers arrive are under the test's control. */
describe('TripFeed', () => {
  let database: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    database = await createTestDatabase('live_feed');
    await ensureSyncedTable(database.pool, 'default', 'trips_synced');
    db = createDb(database.pool, loadConfig({ DATABASE_URL: database.url }).database!);
  });
  afterAll(() => database.drop());

  function feed(env: Record<string, string> = {}): TripFeed {
    return new TripFeed({
      db,
      config: parseLiveConfig({ LIVE_POLL_INTERVAL_MS: '3600000', ...env }),
      stream: streamIdentity('default', 'trips_synced'),
      logger: silentLogger,
    });
  }

  async function read(
    events: AsyncIterator<TripStreamEvent>,
    rows: number,
  ): Promise<{ ids: string[]; cursor: string }> {
    const ids: string[] = [];
    let cursor = '';
    while (ids.length < rows) {
      const { done, value } = await events.next();
      if (done || value instanceof TripStreamTermination) throw new Error('stream ended');
      ids.push(...(value as TripBatch).trips.map((trip) => trip.id));
      cursor = (value as TripBatch).cursor;
    }
    return { ids, cursor };
  }

  it('runs one statement per tick for 1 or 200 subscribers', async () => {
    await insertTrips(database.pool, [1]);
    const perSubscriberCount = async (subscribers: number, firstId: number) => {
      const live = feed();
      const streams = Array.from({ length: subscribers }, (_, i) =>
        live.subscribe({ filter: i % 2 ? { pickupZip: { isNull: false } } : null }),
      );
      await Promise.all(streams.map((s) => s.next()));
      const before = live.stats();
      for (let sync = 0; sync < 5; sync += 1) {
        await insertTrips(database.pool, [firstId + sync * 2, firstId + sync * 2 + 1]);
        live.wake('test');
        await Promise.all(streams.map((s) => s.next()));
      }
      const after = live.stats();
      await live.stop();
      return { ticks: after.ticks - before.ticks, statements: after.feedStatements - before.feedStatements };
    };
    // Of two consecutive ids at most one lacks a pickup zip, so every subscriber gets every sync.
    const one = await perSubscriberCount(1, 1000);
    const many = await perSubscriberCount(200, 2000);
    for (const { ticks, statements } of [one, many]) {
      expect(ticks).toBeGreaterThanOrEqual(5);
      expect(statements).toBe(ticks);
    }
  });

  it('serves a reconnect storm with one catch-up statement per page, not one per client', async () => {
    const live = feed({ LIVE_FEED_BATCH_ROWS: '50' });
    const origin = live.subscribe({});
    const hello = (await origin.next()).value as TripBatch; // the empty first batch: the start cursor
    await origin.return?.();
    const { rows } = await database.pool.query<{ id: string }>(
      'SELECT max(id)::text AS id FROM "default".trips_synced',
    );
    const newest = Number(rows[0]!.id);
    await insertTrips(
      database.pool,
      Array.from({ length: 240 }, (_, i) => 10_000 + i),
    );

    const before = live.stats().catchUpStatements;
    const storm = Array.from({ length: 40 }, () => live.subscribe({ after: hello.cursor }));
    const received = await Promise.all(storm.map((events) => read(events, 240)));
    const want = await expectedIds(database.pool, newest);
    for (const { ids } of received) expect(ids).toEqual(want);
    // 240 rows in pages of 50: 5 pages, the last one short.
    expect(live.stats().catchUpStatements - before).toBe(5);
    await live.stop();
  });
});
