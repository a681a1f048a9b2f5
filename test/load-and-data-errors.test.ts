/**
 * Errors that load or the data cause, not bugs: each says what happened instead of INTERNAL_SERVER_ERROR.
 * - a request that waits past PG_POOL_WAIT_MS for a pooled connection gets DATABASE_BUSY (a client may retry),
 *   and the log says the pool is too small;
 * - checking many new time zones at once no longer takes every pooled connection;
 * - a sum past the range of a double is null with the database's reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturingLogger } from './support/captured-log.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { insertTrickyTrips } from './support/trips-fixture.js';

describe('a pool with no free connection', () => {
  let gw: TestGateway;
  const { logger, lines } = capturingLogger('warn');
  beforeAll(async () => {
    gw = await startTestGateway(
      'database_busy',
      { PG_POOL_MAX: '1', PG_POOL_WAIT_MS: '200', ROLLUPS: 'off' },
      { logger },
    );
  });
  afterAll(() => gw.close());

  it('answers DATABASE_BUSY, and says so in the log', async () => {
    const held = await gw.app.pool.connect();
    try {
      const { body } = await gw.query('{ tripStats { count } }');
      expect(body.errors?.[0]).toMatchObject({
        message: expect.stringMatching(/^the database had no free connection in time/) as unknown,
        extensions: { code: 'DATABASE_BUSY' },
      });
      expect(lines.some((line) => line.level === 'warn' && line.msg.startsWith('no free database connection'))).toBe(
        true,
      );
      expect(lines.filter((line) => line.level === 'error')).toEqual([]);
    } finally {
      held.release();
    }
    expect((await gw.query('{ tripStats { count } }')).body.errors).toBeUndefined();
  });
});

describe('many new time zones at once', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('zone_checks');
    await insertTrickyTrips(gw.database.pool, 300);
  });
  afterAll(() => gw.close());

  it('are checked one at a time, and every answer is the one the zone gets once it is known', async () => {
    const { rows } = await gw.database.pool.query<{ name: string }>(
      `SELECT name FROM pg_timezone_names WHERE name LIKE 'America/%' ORDER BY name LIMIT 16`,
    );
    const zones = rows.map((row) => row.name);
    const query = `query($tz: String!) { tripGroups(groupBy: [PICKUP_DAY_OF_WEEK, PICKUP_HOUR_OF_DAY], timeZone: $tz, first: 500) {
      pickupDayOfWeek pickupHourOfDay stats { count fareAmount { sum } } } }`;
    let concurrentChecks = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const { rows: active } = await gw.database.pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity
            WHERE datname = current_database() AND state = 'active' AND query LIKE '%AS aligned%' AND pid <> pg_backend_pid()`,
        );
        concurrentChecks = Math.max(concurrentChecks, Number(active[0]!.n));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const first = await Promise.all(zones.map((tz) => gw.query(query, { tz })));
    watching = false;
    await watcher;
    expect(concurrentChecks).toBe(1);
    // Asked again, each zone is known (checked, or checked now): the same answer.
    for (const [index, tz] of zones.entries()) {
      expect(first[index]!.body.errors, tz).toBeUndefined();
      expect((await gw.query(query, { tz })).body.data, tz).toEqual(first[index]!.body.data);
    }
  });
});

describe('sums past the range of a double', () => {
  let gw: TestGateway;
  const { logger, lines } = capturingLogger('warn');
  beforeAll(async () => {
    gw = await startTestGateway('float_overflow', {}, { logger });
    await gw.database.pool.query(
      `INSERT INTO "default".trips_synced (id, fare_amount, trip_distance) VALUES (1, 1e308, 1), (2, 1e308, 1), (3, 5, 1)`,
    );
  });
  afterAll(() => gw.close());

  it('get the reason, not an internal error, and sums in range still answer', async () => {
    const { body } = await gw.query('{ all: tripStats { count fareAmount { sum } } }');
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]).toMatchObject({
      path: ['all'],
      message: expect.stringMatching(/^the answer is beyond what a Float can carry: .*out of range/) as unknown,
    });
    expect(body.errors![0]!.extensions?.code).toBeUndefined();
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
    const one = await gw.query('{ tripStats(filter: { tripId: { eq: "3" } }) { fareAmount { sum } } }');
    expect(one.body).toEqual({ data: { tripStats: { fareAmount: { sum: 5 } } } });
  });
});

describe('a statement past PG_STATEMENT_TIMEOUT_MS', () => {
  let gw: TestGateway;
  const { logger, lines } = capturingLogger('warn');
  beforeAll(async () => {
    gw = await startTestGateway('statement_timeout', { PG_STATEMENT_TIMEOUT_MS: '200', ROLLUPS: 'off' }, { logger });
    await insertTrickyTrips(gw.database.pool, 50);
  });
  afterAll(() => gw.close());

  it('answers STATEMENT_TIMEOUT with what to do, not an internal error, and says so in the log', async () => {
    // A lock stands in for a question too big for the setting: the statement waits past 200 ms, then is stopped.
    const holder = await gw.database.pool.connect();
    try {
      await holder.query('BEGIN; LOCK TABLE "default".trips_synced IN ACCESS EXCLUSIVE MODE');
      const { body } = await gw.query('{ tripStats { count } }');
      expect(body.errors?.[0]).toMatchObject({
        message: expect.stringMatching(
          /^the database stopped this statement when it ran past PG_STATEMENT_TIMEOUT_MS/,
        ) as unknown,
        extensions: { code: 'STATEMENT_TIMEOUT' },
      });
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    expect(lines.some((line) => line.level === 'warn' && /PG_STATEMENT_TIMEOUT_MS/.test(line.msg))).toBe(true);
    expect(lines.filter((line) => line.level === 'error')).toEqual([]);
    expect((await gw.query('{ tripStats { count } }')).body).toEqual({ data: { tripStats: { count: '50' } } });
  });
});
