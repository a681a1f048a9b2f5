import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { insertTrickyTrips } from './support/trips-fixture.js';

describe('zones, trip lookups and Relay nodes', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('zones_nodes');
    await insertTrickyTrips(gw.database.pool, 1200);
  });
  afterAll(() => gw.close());

  it('loads the zones of a 1,000-trip page in one batched statement', async () => {
    const before = gw.app.statements.total;
    const { body } = await gw.query<{
      trips: {
        edges: {
          node: {
            pickupZip: number | null;
            pickupZone: { zip: number; borough: string | null } | null;
            dropoffZone: { neighborhood: string | null } | null;
          };
        }[];
      };
    }>(
      `{ trips(first: 1000) { edges { node {
          pickupZip pickupZone { zip borough } dropoffZone { neighborhood } } } } }`,
    );
    expect(body.errors).toBeUndefined();
    const edges = body.data!.trips.edges;
    expect(edges).toHaveLength(1000);
    // One statement for the page, one for every zone on it (pickup and dropoff share the loader).
    expect(gw.app.statements.total - before).toBe(2);
    const manhattan = edges.find((edge) => edge.node.pickupZip === 10001)!;
    expect(manhattan.node.pickupZone).toEqual({ zip: 10001, borough: 'Manhattan' });
    const unknown = edges.find((edge) => edge.node.pickupZip === 99999)!;
    expect(unknown.node.pickupZone).toEqual({ zip: 99999, borough: null });
    const missing = edges.find((edge) => edge.node.pickupZip === null)!;
    expect(missing.node.pickupZone).toBeNull();
  });

  it('looks up one zone, known or not', async () => {
    const { body } = await gw.query(
      `{ jfk: zone(zip: 11430) { zip borough neighborhood } nowhere: zone(zip: 12345) { zip borough } }`,
    );
    expect(body.data).toEqual({
      jfk: { zip: 11430, borough: 'Queens', neighborhood: expect.stringMatching(/JFK/) },
      nowhere: { zip: 12345, borough: null },
    });
  });

  it('looks up again any zone a trip gave, whatever its ZIP holds', async () => {
    // A synced table holds whatever ZIPs the source wrote; zone(zip:) refused those that are not five digits.
    await gw.database.pool.query(
      `INSERT INTO "default".trips_synced VALUES (900001, '2016-01-02 00:00:00+00', NULL, 1, 7, 123456, -3)`,
    );
    const { body } = await gw.query<{
      trip: { pickupZone: { zip: number }; dropoffZone: { zip: number } };
      wide: { zip: number; borough: string | null; pickups: { count: string } };
      negative: { zip: number; dropoffs: { count: string } };
    }>(`{
      trip(tripId: "900001") { pickupZone { zip } dropoffZone { zip } }
      wide: zone(zip: 123456) { zip borough pickups { count } }
      negative: zone(zip: -3) { zip dropoffs { count } }
    }`);
    expect(body.errors).toBeUndefined();
    expect(body.data).toEqual({
      trip: { pickupZone: { zip: 123456 }, dropoffZone: { zip: -3 } },
      wide: { zip: 123456, borough: null, pickups: { count: '1' } },
      negative: { zip: -3, dropoffs: { count: '1' } },
    });
    await gw.database.pool.query('DELETE FROM "default".trips_synced WHERE id = 900001');
  });

  it('finds a trip by primary key, null when absent', async () => {
    const { rows } = await gw.database.pool.query(
      `SELECT id, fare_amount, tpep_pickup_datetime, tpep_dropoff_datetime FROM "default".trips_synced
        WHERE fare_amount IS NOT NULL AND tpep_pickup_datetime IS NOT NULL AND tpep_dropoff_datetime IS NOT NULL
        ORDER BY id LIMIT 1`,
    );
    const row = rows[0];
    const { body } = await gw.query<{ trip: Record<string, unknown>; none: null }>(
      `query($id: BigInt!) { trip(tripId: $id) { tripId fareAmount pickupAt durationMinutes } none: trip(tripId: "424242424242") { tripId } }`,
      { id: row.id },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.trip).toEqual({
      tripId: row.id,
      fareAmount: row.fare_amount,
      pickupAt: row.tpep_pickup_datetime.toISOString(),
      durationMinutes: (row.tpep_dropoff_datetime.getTime() - row.tpep_pickup_datetime.getTime()) / 60000,
    });
    expect(body.data!.none).toBeNull();
  });

  it('round-trips Relay global ids through node and nodes in one batch', async () => {
    const { body: page } = await gw.query<{ trips: { edges: { node: { id: string; tripId: string } }[] } }>(
      '{ trips(first: 3, orderBy: [TRIP_ID_ASC]) { edges { node { id tripId } } } }',
    );
    const nodes = page.data!.trips.edges.map((edge) => edge.node);
    const before = gw.app.statements.total;
    const { body } = await gw.query<{ node: { tripId: string }; nodes: ({ tripId: string } | null)[] }>(
      `query($id: ID!, $ids: [ID!]!) {
         node(id: $id) { ... on Trip { tripId } }
         nodes(ids: $ids) { ... on Trip { tripId } } }`,
      { id: nodes[0]!.id, ids: [...nodes.map((n) => n.id), Buffer.from('Trip:987654321').toString('base64')] },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data!.node).toEqual({ tripId: nodes[0]!.tripId });
    expect(body.data!.nodes).toEqual([...nodes.map((n) => ({ tripId: n.tripId })), null]);
    expect(gw.app.statements.total - before).toBe(1);
  });
});
