/**
 * An idle tab must cost the database nothing (docs/performance.md): with the
 * exact capture, whose triggers NOTIFY at every writing commit, and LISTEN
 * connected, the feed's poll is only a rare safety net
 * (LIVE_NOTIFIED_POLL_INTERVAL_MS); while LISTEN is down it polls at
 * LIVE_POLL_INTERVAL_MS again. Counted in pg_stat_statements and in the
 * feed's own counters over a window of idle time, never timed.
 */
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { freePort } from '../src/dev/embedded-postgres.js';
import { insertTrips, sleep, startLiveGateway, TripStream, type LiveGateway } from './support/live.js';

/** A short poll, so that a feed still polling would run dozens of statements in the window. */
const SHORT_POLL = { LIVE_POLL_INTERVAL_MS: '50', ROLLUP_POLL_MS: '3600000' };
const WINDOW_MS = 1500;

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Calls of the feed's statement (readNetChanges) on this database, as pg_stat_statements counts them. */
async function feedStatementsInDatabase(gw: LiveGateway): Promise<number> {
  const { rows } = await gw.database.pool.query<{ calls: string | null }>(
    `SELECT sum(calls)::text AS calls FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
      WHERE d.datname = current_database() AND s.query LIKE '%cur AS MATERIALIZED (SELECT pg_current_snapshot()%'`,
  );
  return Number(rows[0]?.calls ?? 0);
}

describe('an idle subscriber', () => {
  let gw: LiveGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('costs no statement while NOTIFY wakes the feed, and a write still arrives at once', async () => {
    gw = await startLiveGateway('live_idle', SHORT_POLL);
    await gw.database.pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const live = gw.app.live;
    await until(() => live.listener!.listening, 'LISTEN');
    const stream = new TripStream(gw.client('distinct'));
    await stream.started();
    const feed = live.feed;
    expect(feed.stats()).toMatchObject({ mechanism: 'trigger', pollIntervalMs: 60_000 });

    // Settle: the subscribe tick and the LISTEN wake-up are behind us.
    await sleep(200);
    const ticks = feed.stats().ticks;
    const statements = await feedStatementsInDatabase(gw);
    await sleep(WINDOW_MS); // 30 ticks of the short poll
    expect(feed.stats().ticks - ticks).toBe(0);
    expect(await feedStatementsInDatabase(gw)).toBe(statements);

    // The poll is an hour away now; only the trigger's NOTIFY can deliver this.
    await insertTrips(gw.database.pool, [1, 2]);
    await stream.untilRows(2, 20_000);
    expect(stream.ids).toEqual(['1', '2']);
    expect(feed.stats().ticks - ticks).toBeGreaterThan(0);
    stream.close();
  });

  it('polls at LIVE_POLL_INTERVAL_MS while LISTEN is down, and rarely again once it is back', async () => {
    gw = await startLiveGateway('live_idle_listen_down', SHORT_POLL);
    const live = gw.app.live;
    await until(() => live.listener!.listening, 'LISTEN');
    const stream = new TripStream(gw.client('single'));
    await stream.started();
    const feed = live.feed;

    // Refuse new connections to this database and end the LISTEN session: it keeps failing to reconnect.
    const admin = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE "${gw.database.name}" ALLOW_CONNECTIONS false`);
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = $1 AND application_name = 'lakebase-graphql-listen'`,
        [gw.database.name],
      );
      await until(() => !live.listener!.listening, 'LISTEN to be lost');
      expect(feed.stats()).toMatchObject({ pollIntervalMs: 50 });
      const ticks = feed.stats().ticks;
      await sleep(WINDOW_MS);
      // Polled: at least a few of the 30 short ticks, on the pool's connections still open.
      expect(feed.stats().ticks - ticks).toBeGreaterThan(3);
      await admin.query(`ALTER DATABASE "${gw.database.name}" ALLOW_CONNECTIONS true`);
    } finally {
      await admin.query(`ALTER DATABASE "${gw.database.name}" ALLOW_CONNECTIONS true`).catch(() => undefined);
      await admin.end();
    }
    await until(() => live.listener!.listening, 'LISTEN to reconnect');
    expect(feed.stats()).toMatchObject({ pollIntervalMs: 60_000 });
    stream.close();
  });

  it('polls at LIVE_POLL_INTERVAL_MS when LISTEN cannot connect at all', async () => {
    const closedPort = await freePort();
    gw = await startLiveGateway('live_idle_no_listen', { ...SHORT_POLL, LIVE_LISTEN_HOST: `127.0.0.1:${closedPort}` });
    const stream = new TripStream(gw.client('distinct'));
    await stream.started();
    const feed = gw.app.live.feed;
    expect(gw.app.live.listener!.listening).toBe(false);
    expect(feed.stats()).toMatchObject({ pollIntervalMs: 50 });
    await insertTrips(gw.database.pool, [7]);
    await stream.untilRows(1);
    stream.close();
  });
});
