import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NYC_ZIP_ZONES } from '../src/zones/nyc-zip-codes.js';
import { insertAggregateTrips } from './support/aggregates-fixture.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

interface ZoneStats {
  zip: number;
  pickups: { count: string; fareAmount: { sum: number | null } };
  dropoffs: { count: string };
}

describe.each<{ mode: string; env: Record<string, string> }>([
  { mode: 'raw table', env: { ROLLUPS: 'off' } },
  // Once a freshness check has proven the rollup, each statement re-proves it
  // itself: no statement is added (aggregates-rollup-trigger.test.ts counts the
  // cases where the proof fails).
  { mode: 'fresh rollup', env: { ROLLUP_POLL_MS: '0' } },
])('Zone.pickups / Zone.dropoffs batching ($mode)', ({ mode, env }) => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway(mode === 'raw table' ? 'zone_raw' : 'zone_rollup', env);
    // Statements are counted per request below: installs still running would be counted with them.
    await gw.app.initialised;
    await insertAggregateTrips(gw.database.pool);
    await gw.database.pool.query('SELECT pg_stat_force_next_flush()');
    if (mode === 'fresh rollup') {
      expect((await gw.app.rollups.refresh()).status).toBe('built');
      expect(await gw.app.rollups.freshRollup()).not.toBeNull();
    }
  });
  afterAll(() => gw.close());

  async function statements<T>(query: string): Promise<{ data: T; statements: number }> {
    const before = gw.app.statements.total;
    const { body } = await gw.query<T>(query);
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return { data: body.data!, statements: gw.app.statements.total - before };
  }

  async function expectedCounts(column: string, where = 'true'): Promise<Map<number, string>> {
    const { rows } = await gw.database.pool.query<{ zip: number; count: string }>(
      `SELECT ${column} AS zip, count(*)::text AS count FROM "default".trips_synced
        WHERE ${column} IS NOT NULL AND ${where} GROUP BY 1`,
    );
    return new Map(rows.map((row) => [row.zip, row.count]));
  }

  it('answers 200 aliased zones with one statement per distinct (side, filter)', async () => {
    const zips = NYC_ZIP_ZONES.slice(0, 199).map((zone) => zone.zip);
    zips.push(99999);
    const fields = `zip pickups { count fareAmount { sum } } dropoffs(filter: { pickupAt: { gte: "2016-01-01T00:00:00Z" } }) { count }`;
    const query = `{ ${zips.map((zip, i) => `z${i}: zone(zip: ${zip}) { ${fields} }`).join('\n')} }`;
    const { data, statements: count } = await statements<Record<string, ZoneStats>>(query);
    // zones (reference data) + pickups + dropoffs-with-filter
    expect(count).toBe(3);

    const pickups = await expectedCounts('pickup_zip');
    const dropoffs = await expectedCounts('dropoff_zip', `tpep_pickup_datetime >= '2016-01-01T00:00:00Z'`);
    let zonesWithTrips = 0;
    zips.forEach((zip, i) => {
      const zone = data[`z${i}`]!;
      expect(zone.zip).toBe(zip);
      expect(zone.pickups.count, `pickups of ${zip}`).toBe(pickups.get(zip) ?? '0');
      expect(zone.dropoffs.count, `dropoffs of ${zip}`).toBe(dropoffs.get(zip) ?? '0');
      if (zone.pickups.count !== '0') zonesWithTrips += 1;
      else expect(zone.pickups.fareAmount.sum).toBeNull();
    });
    expect(zonesWithTrips).toBeGreaterThan(5);
  });

  it('costs one statement per distinct filter, however the filters are spelled', async () => {
    const query = (extra: string) => `{
      a: zone(zip: 10001) { pickups(filter: { pickupZip: { ne: 1 }, pickupAt: { isNull: false } }) { count } ${extra} }
      b: zone(zip: 11430) { pickups(filter: { pickupAt: { isNull: false }, pickupZip: { ne: 1, eq: null } }) { count } }
    }`;
    const same = await statements(query(''));
    expect(same.statements).toBe(2);
    const other = await statements(query('other: pickups(filter: { pickupZip: { ne: 2 } }) { count }'));
    expect(other.statements).toBe(3);
  });

  it('adds a fixed number of statements to a page of trips, whatever its size', async () => {
    const page = (size: number, stats: boolean) => `{
      trips(first: ${size}, orderBy: [TRIP_ID_ASC]) { edges { node {
        tripId
        pickupZone { zip ${stats ? 'pickups { count }' : ''} }
        dropoffZone { zip ${stats ? 'dropoffs { count }' : ''} }
      } } }
    }`;
    for (const size of [5, 500]) {
      const without = await statements(page(size, false));
      const withStats = await statements<{
        trips: { edges: { node: { pickupZone: { zip: number; pickups: { count: string } } | null } }[] };
      }>(page(size, true));
      expect(withStats.statements - without.statements, `page of ${size}`).toBe(2);
      const pickups = await expectedCounts('pickup_zip');
      for (const { node } of withStats.data.trips.edges) {
        if (node.pickupZone) expect(node.pickupZone.pickups.count).toBe(pickups.get(node.pickupZone.zip));
      }
    }
  });
});
