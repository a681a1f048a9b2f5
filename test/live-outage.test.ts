import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectedIds, insertTrips, sleep, startLiveGateway, TripStream, type LiveGateway } from './support/live.js';

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('the database connection drops and comes back', () => {
  let gw: LiveGateway;
  let admin: pg.Client;
  beforeAll(async () => {
    gw = await startLiveGateway('live_outage', { LIVE_POLL_INTERVAL_MS: '100', LIVE_FEED_BATCH_ROWS: '100' });
    // The test's own pool loses its connections too; an idle one dying must not crash the run.
    gw.database.pool.on('error', () => {});
    admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.query(`ALTER DATABASE "${gw.database.name}" ALLOW_CONNECTIONS true`);
    await admin.end();
    await gw.close();
  });

  const terminateAll = () =>
    admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [gw.database.name]);

  it('streams continue with no row lost or repeated', async () => {
    const streams = [
      new TripStream(gw.client('distinct')),
      new TripStream(gw.client('single'), { filter: { fareAmount: { gte: 10 } } }),
    ];
    await Promise.all(streams.map((stream) => stream.started()));

    // The pipeline's writes go on through the outage: each commit retried until
    // it succeeds (idempotently: a commit may land although its connection died).
    const writer = new pg.Pool({ connectionString: gw.database.url, max: 1 });
    writer.on('error', () => {});
    const total = 1200;
    let written = 0;
    const writing = (async () => {
      while (written < total) {
        const ids = Array.from({ length: 4 }, (_, i) => written + i + 1);
        try {
          await insertTrips(writer, ids, { onConflictDoNothing: true });
          written += ids.length;
        } catch {
          // the database is down; try again
        }
        await sleep(10);
      }
    })();

    await until(() => written >= 200, 'rows before the outage');
    const live = gw.app.live;
    const failedBefore = live.feed.stats().failedStatements;
    await admin.query(`ALTER DATABASE "${gw.database.name}" ALLOW_CONNECTIONS false`);
    await terminateAll();
    await until(() => live.feed.stats().failedStatements > failedBefore, 'the feed to hit the outage');
    await until(() => !live.listener!.listening, 'the LISTEN connection to be lost');
    await admin.query(`ALTER DATABASE "${gw.database.name}" ALLOW_CONNECTIONS true`);
    await until(() => live.listener!.listening, 'LISTEN to reconnect');

    await until(() => written >= 800, 'rows after the outage');
    await terminateAll(); // a brief drop, no refusal this time
    await writing;
    await writer.end();

    const wants = [await expectedIds(gw.database.pool, 0), await expectedIds(gw.database.pool, 0, 'fare_amount >= 10')];
    expect(wants[0]).toHaveLength(total);
    for (const [index, stream] of streams.entries()) {
      await stream.untilRows(wants[index]!.length);
      expect(stream.ids).toEqual(wants[index]);
      expect(stream.errors).toEqual([]);
      stream.close();
    }
  });
});
