/**
 * The exact capture under the grants docs/deploy.md asks for: TRIGGER on the synced table, not ownership. The
 * installer's attempt to make its triggers fire ALWAYS (for bulk loaders writing as replicas) is refused, and
 * must leave the rest of the install, recorded in the same transaction, in place: the triggers in their default
 * mode, the capture's identity recorded, and no cursor expired by a later start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { createTestDatabase, dropTestRole, grantGatewayRole, type TestDatabase } from './support/database.js';
import { insertTrips, startLiveGateway, TripStream, type LiveGateway } from './support/live.js';

const ROLE = 'live_trigger_only';

describe('the change capture installed by a role with TRIGGER but not ownership', () => {
  let database: TestDatabase;
  let gw: LiveGateway;
  let roleUrl: string;
  beforeAll(async () => {
    database = await createTestDatabase('live_capture_grants');
    await ensureSyncedTable(database.pool, 'default', 'trips_synced');
    roleUrl = await grantGatewayRole(database, ROLE, 'SELECT, TRIGGER');
    gw = await startLiveGateway(
      'live_capture_grants',
      { DATABASE_URL: roleUrl, GATEWAY_SCHEMA: 'trigger_only_gw' },
      { database },
    );
  });
  afterAll(async () => {
    await gw?.close();
    await database?.drop();
    await dropTestRole(ROLE);
  });

  it('streams exactly with its triggers in the default mode, and a restart expires no cursor', async () => {
    expect(gw.app.live.mechanism).toBe('trigger');
    const { rows } = await database.pool.query<{ name: string; enabled: string }>(
      `SELECT tgname AS name, tgenabled AS enabled FROM pg_trigger
        WHERE tgrelid = '"default".trips_synced'::regclass AND tgname LIKE 'trigger_only_gw%'
        ORDER BY tgname`,
    );
    expect(rows.map((row) => row.enabled)).toEqual(['O', 'O', 'O', 'O']);
    const { rows: state } = await database.pool.query<{ recorded: boolean }>(
      `SELECT epoch IS NOT NULL AND recaptured_xid IS NOT NULL AS recorded FROM trigger_only_gw.trip_change_capture`,
    );
    expect(state).toEqual([{ recorded: true }]);

    const stream = new TripStream(gw.client('distinct'));
    await stream.started();
    await insertTrips(database.pool, [1, 2, 3]);
    await stream.untilRows(3);
    expect(stream.ids).toEqual(['1', '2', '3']);
    const cursor = (await gw.query<{ trips: { streamCursor: string } }>('{ trips(first: 1) { streamCursor } }')).body
      .data!.trips.streamCursor;
    stream.close();
    await gw.close();

    // The same role starts again: its refused attempt changes nothing, so nothing was put back.
    gw = await startLiveGateway(
      'live_capture_grants_again',
      { DATABASE_URL: roleUrl, GATEWAY_SCHEMA: 'trigger_only_gw' },
      { database },
    );
    const resumed = new TripStream(gw.client('single'), { after: cursor });
    await resumed.started();
    await insertTrips(database.pool, [4]);
    await resumed.untilRows(1);
    expect(resumed.ids).toEqual(['4']);
    expect(resumed.errors).toEqual([]);
    resumed.close();
  });
});
