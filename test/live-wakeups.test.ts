import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { expectedIds, insertTrips, sleep, startLiveGateway, TripStream, type LiveGateway } from './support/live.js';

/**
 * With an hour-long poll interval, rows reach subscribers only when something
 * wakes the feed, so each test shows that its wake-up works. Rollups and the
 * live change capture are off here, so the gateway puts no trigger (which
 * notifies on every write) on the table, except in the test of that trigger.
 */
const NO_POLL = { LIVE_POLL_INTERVAL_MS: '3600000', ROLLUPS: 'off', LIVE_CHANGE_CAPTURE: 'off' };

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('the live feed wakes up', () => {
  let gw: LiveGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('on NOTIFY from the sync pipeline, also after the LISTEN connection was killed', async () => {
    gw = await startLiveGateway('live_notify', NO_POLL);
    const listener = gw.app.live.listener!;
    await until(() => listener.listening, 'LISTEN');
    const stream = new TripStream(gw.client('distinct'));
    await stream.started();

    await insertTrips(gw.database.pool, [1, 2, 3]);
    await sleep(300);
    expect(stream.ids).toEqual([]); // committed, but nothing woke the feed yet
    await gw.database.pool.query(`SELECT pg_notify('lakebase_graphql_sync', '{"version": 1}')`);
    await stream.untilRows(3);

    const connections = listener.connections;
    const admin = new pg.Client({ connectionString: gw.database.url });
    await admin.connect();
    const killed = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'lakebase-graphql-listen'`,
    );
    await admin.end();
    expect(killed.rowCount).toBe(1);
    // The first reconnect is immediate: the disconnected moment is too short to watch for.
    await until(() => listener.connections > connections && listener.listening, 'the listener to reconnect');

    await insertTrips(gw.database.pool, [4, 5]);
    await gw.database.pool.query(`NOTIFY lakebase_graphql_sync`);
    await stream.untilRows(5);
    expect(stream.ids).toEqual(await expectedIds(gw.database.pool, 0));
    stream.close();
  });

  it("on the change trigger's notification, with no NOTIFY from whatever writes the table", async () => {
    gw = await startLiveGateway('live_trigger', { LIVE_POLL_INTERVAL_MS: '3600000', ROLLUP_POLL_MS: '3600000' });
    await until(() => gw!.app.live.listener!.listening, 'LISTEN');
    const stream = new TripStream(gw.client('distinct'));
    await stream.started();
    // A plain writer, as Lakebase's managed pipeline is: it sends no notification of its own.
    await insertTrips(gw.database.pool, [21, 22, 23]);
    await stream.untilRows(3);
    expect(stream.ids).toEqual(await expectedIds(gw.database.pool, 0));
    stream.close();
  });

  it('on a configured channel name', async () => {
    gw = await startLiveGateway('live_channel', { ...NO_POLL, LIVE_NOTIFY_CHANNEL: 'Trips Synced' });
    await until(() => gw!.app.live.listener!.listening, 'LISTEN');
    const stream = new TripStream(gw.client('single'));
    await stream.started();
    await insertTrips(gw.database.pool, [10, 11]);
    await gw.database.pool.query(`SELECT pg_notify('lakebase_graphql_sync', '')`); // not ours
    await sleep(300);
    expect(stream.ids).toEqual([]);
    await gw.database.pool.query(`SELECT pg_notify('Trips Synced', '')`);
    await stream.untilRows(2);
    stream.close();
  });

  it('on a LISTEN connection named after PGAPPNAME, beside the pool named so too', async () => {
    gw = await startLiveGateway('live_appname', { ...NO_POLL, PGAPPNAME: 'trips blue' });
    await until(() => gw!.app.live.listener!.listening, 'LISTEN');
    const stream = new TripStream(gw.client('single'));
    await stream.started();
    const { rows } = await gw.database.pool.query<{ name: string }>(
      `SELECT DISTINCT application_name AS name FROM pg_stat_activity
        WHERE datname = current_database() AND application_name LIKE 'trips blue%' ORDER BY 1`,
    );
    expect(rows.map((row) => row.name)).toEqual(['trips blue', 'trips blue-listen']);
    await insertTrips(gw.database.pool, [10]);
    await gw.database.pool.query(`NOTIFY lakebase_graphql_sync`);
    await stream.untilRows(1);
    stream.close();
  });

  it('when the lead calls wake() on a sync status change, with LISTEN turned off', async () => {
    gw = await startLiveGateway('live_wake', { ...NO_POLL, LIVE_NOTIFY_CHANNEL: 'off' });
    expect(gw.app.live.listener).toBeUndefined();
    const stream = new TripStream(gw.client('distinct'), { filter: { pickupZip: { isNull: false } } });
    await stream.started();
    await insertTrips(
      gw.database.pool,
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    gw.app.live.wake('sync status: new lastSync');
    const want = await expectedIds(gw.database.pool, 0, 'pickup_zip IS NOT NULL');
    await stream.untilRows(want.length);
    expect(stream.ids).toEqual(want);
    stream.close();
  });

  it('on its poll interval', async () => {
    gw = await startLiveGateway('live_poll', { LIVE_POLL_INTERVAL_MS: '100', LIVE_NOTIFY_CHANNEL: 'off' });
    const stream = new TripStream(gw.client('distinct'));
    await stream.started();
    await insertTrips(gw.database.pool, [7, 8, 9]);
    await stream.untilRows(3);
    stream.close();
  });
});
