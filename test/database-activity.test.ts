import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultIdleAfterMs } from '../src/config/databricks.js';
import { DatabaseActivity } from '../src/db/database-activity.js';
import { createLogger } from '../src/logger.js';
import { insertTrips, sleep, startLiveGateway, TripStream, type LiveGateway } from './support/live.js';
import { eventually } from './support/pipeline.js';

const quiet = createLogger('error');

describe('DatabaseActivity', () => {
  it('pauses after the quiet period, not while anyone subscribes, and a request resumes it once', () => {
    let now = 0;
    let subscribers = 0;
    let resumed = 0;
    const activity = new DatabaseActivity({
      idleAfterMs: 1000,
      busy: () => subscribers > 0,
      logger: quiet,
      now: () => now,
    });
    activity.onResume(() => (resumed += 1));
    now = 999;
    expect(activity.paused).toBe(false);
    now = 1000;
    subscribers = 1;
    expect(activity.paused).toBe(false); // a subscriber is activity
    subscribers = 0;
    now = 1999;
    expect(activity.paused).toBe(false); // the quiet period starts again when the last subscriber was seen
    now = 2000;
    expect(activity.paused).toBe(true);
    activity.touch();
    expect(activity.paused).toBe(false);
    expect(resumed).toBe(1);
    activity.touch();
    expect(resumed).toBe(1); // nothing was paused
  });

  it('never pauses with DB_IDLE_AFTER_MS=0', () => {
    let now = 0;
    const activity = new DatabaseActivity({ idleAfterMs: 0, busy: () => false, logger: quiet, now: () => now });
    now = 1e12;
    expect(activity.paused).toBe(false);
  });

  it('defaults to two minutes on Lakebase Autoscaling only', () => {
    expect(defaultIdleAfterMs({ lakebase: { kind: 'endpoint', endpoint: 'projects/p/branches/b/endpoints/e' } })).toBe(
      120_000,
    );
    expect(defaultIdleAfterMs({ lakebase: { kind: 'synced-table', syncedTableName: 'c.s.t', api: 'postgres' } })).toBe(
      120_000,
    );
    expect(defaultIdleAfterMs({ lakebase: { kind: 'synced-table', syncedTableName: 'c.s.t', api: 'database' } })).toBe(
      0,
    );
    expect(defaultIdleAfterMs({ lakebase: { kind: 'instance', instanceName: 'i' } })).toBe(0);
    expect(defaultIdleAfterMs({ lakebase: null })).toBe(0);
  });
});

describe('a quiet gateway leaves a scale-to-zero database alone', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('database_activity', {
      DB_IDLE_AFTER_MS: '600',
      // A poll every 50 ms: any that slipped through a pause would show at once.
      ROLLUP_POLL_MS: '50',
      LIVE_POLL_INTERVAL_MS: '50',
    });
    await gw.app.initialised;
  });
  afterAll(() => gw.close());

  const health = async () =>
    (await (await fetch(`${gw.origin}/health`)).json()) as {
      backgroundDatabaseWork: { state: string; idleAfterMs: number };
    };
  /** Statements the gateway's own connections started after `since` (a database timestamp). */
  const gatewayStatementsSince = async (since: string) =>
    Number(
      (
        await gw.database.pool.query<{ count: string }>(
          `SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND application_name LIKE 'lakebase-graphql%' AND query_start > $1`,
          [since],
        )
      ).rows[0]!.count,
    );
  const databaseNow = async () =>
    (await gw.database.pool.query<{ now: string }>('SELECT clock_timestamp()::text AS now')).rows[0]!.now;
  const listenBackends = async () =>
    Number(
      (
        await gw.database.pool.query<{ count: string }>(
          `SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = 'lakebase-graphql-listen'`,
        )
      ).rows[0]!.count,
    );

  it('sends nothing while paused, does not replace a LISTEN connection the database closed, and resumes on a request', async () => {
    // Running: the rollup maintainer polls. Requests (which send no statement) keep the gateway active: on a
    // loaded machine its start alone may have outlasted DB_IDLE_AFTER_MS.
    const start = await databaseNow();
    await eventually(
      async () => {
        await gw.query('{ __typename }');
        return gatewayStatementsSince(start);
      },
      (count) => count > 0,
      'a background statement while active',
    );

    // Quiet for longer than DB_IDLE_AFTER_MS: /health says so (probes are not activity).
    await eventually(health, (body) => body.backgroundDatabaseWork.state === 'paused', 'the pause');
    expect((await health()).backgroundDatabaseWork.idleAfterMs).toBe(600);
    expect(await (await fetch(`${gw.origin}/metrics`)).text()).toMatch(/^lakebase_background_database_work_paused 1$/m);
    await sleep(300); // a poll that had started before the pause ends
    const pausedAt = await databaseNow();
    await sleep(400);
    // A readiness probe while paused answers without a query: its SELECT 1 would keep the compute awake.
    const ready = await fetch(`${gw.origin}/ready`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { database: string }).database).toMatch(/^not probed while the gateway is idle/);
    await sleep(400);
    expect(await gatewayStatementsSince(pausedAt)).toBe(0);

    // A suspending compute closes idle connections: the LISTEN connection is not replaced while paused.
    expect(await listenBackends()).toBe(1);
    await gw.database.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'lakebase-graphql-listen'`,
    );
    const listening = async () => gw.app.live.listener!.listening;
    await eventually(listening, (up) => !up, 'the listener to see its connection go');
    await sleep(800);
    expect(await listenBackends()).toBe(0);

    // A subscriber's request resumes everything, and gets its rows.
    const stream = new TripStream(gw.client('distinct'), {});
    await stream.started();
    await eventually(listening, (up) => up, 'LISTEN again');
    expect((await health()).backgroundDatabaseWork.state).toBe('running');
    expect(await (await fetch(`${gw.origin}/metrics`)).text()).toMatch(/^lakebase_background_database_work_paused 0$/m);
    const resumedAt = await databaseNow();
    await insertTrips(gw.database.pool, [1, 2, 3]);
    await stream.untilRows(3, 15_000);
    expect(stream.ids).toEqual(['1', '2', '3']);
    await sleep(200);
    expect(await gatewayStatementsSince(resumedAt)).toBeGreaterThan(0);
    stream.close();
  });
});
