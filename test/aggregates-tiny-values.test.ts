/**
 * Averages of values too small for their quotient: the float8 `/` operator raises "value out of range:
 * underflow" where a quotient rounds to zero, and one such group failed a whole aggregate answer (tripStats,
 * every group of tripGroups, zone stats) that SQL's avg() answers. Found by differential fuzzing against SQL
 * (a fare of 5e-324 beside a 0). Checked from the synced table and from the rollup.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/gateway.js';

const TINY = `{
  total: tripStats(filter: { tripId: { in: ["1", "2", "3"] } }) { count fareAmount { avg sum min } }
  byZip: tripGroups(groupBy: [PICKUP_ZIP], first: 10) { pickupZip stats { count fareAmount { avg } } }
  zone(zip: 10001) { pickups { fareAmount { avg } } }
}`;

interface Answer {
  total: { count: string; fareAmount: { avg: number; sum: number; min: number } };
  byZip: { pickupZip: number; stats: { count: string; fareAmount: { avg: number } } }[];
  zone: { pickups: { fareAmount: { avg: number } } };
}

describe('averages whose quotient underflows', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('agg_tiny', { ROLLUP_POLL_MS: '0' });
    await gw.database.pool.query(`INSERT INTO "default".trips_synced VALUES
      (1, '2016-01-01 00:00:00+00', '2016-01-01 00:10:00+00', 1, 5e-324, 10001, 10001),
      (2, '2016-01-01 01:00:00+00', '2016-01-01 01:10:00+00', 1, 0, 10001, 10001),
      (3, '2016-01-01 02:00:00+00', '2016-01-01 02:10:00+00', 1, 0, 10001, 10001)`);
  });
  afterAll(() => gw.close());

  async function expectAsSql(): Promise<void> {
    const { body } = await gw.query<Answer>(TINY);
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    const [sqlAnswer] = (
      await gw.database.pool.query<{ avg: number; sum: number; min: number }>(
        'SELECT avg(fare_amount) AS avg, sum(fare_amount) AS sum, min(fare_amount) AS min FROM "default".trips_synced',
      )
    ).rows;
    expect(sqlAnswer!.avg).toBe(0);
    expect(body.data!.total).toEqual({ count: '3', fareAmount: { avg: 0, sum: 5e-324, min: 0 } });
    expect(body.data!.byZip).toEqual([{ pickupZip: 10001, stats: { count: '3', fareAmount: { avg: 0 } } }]);
    expect(body.data!.zone.pickups.fareAmount.avg).toBe(0);
  }

  it('are what avg() answers, from the synced table', async () => {
    const before = { ...gw.app.rollups.served };
    await expectAsSql();
    expect(gw.app.rollups.served.raw - before.raw).toBeGreaterThan(0);
  });

  it('and from the rollup', async () => {
    expect((await gw.app.rollups.refresh()).status).toBe('built');
    const before = { ...gw.app.rollups.served };
    await expectAsSql();
    expect(gw.app.rollups.served.rollup - before.rollup).toBeGreaterThan(0);
  });
});
