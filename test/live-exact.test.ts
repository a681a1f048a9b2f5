import type { Logger } from '../src/logger.js';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { namingHorizonHolders } from './support/database.js';
import { createPrivateTestDatabase } from './support/private-cluster.js';
import {
  applyChanges,
  ChangeStream,
  insertTrips,
  sleep,
  startLiveGateway,
  TripStream,
  viewInSql,
  type LiveGateway,
  type Transport,
} from './support/live.js';

/**
 * The cases the key high-water mark got wrong (issue 12): rows whose id is
 * not above the newest one streamed, and transactions that commit out of id
 * order. Every case runs against both graphql-sse transports, and checks
 * tripsAdded and tripChanges.
 */
describe.each<Transport>(['distinct', 'single'])('live changes exactly once (%s)', (mode) => {
  let gw: LiveGateway;
  let added: TripStream;
  let changes: ChangeStream;
  const view = new Map<string, string>();

  beforeAll(async () => {
    gw = await startLiveGateway(`live_exact_${mode}`, { LIVE_POLL_INTERVAL_MS: '50' });
    await insertTrips(gw.database.pool, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const { body } = await gw.query<{ trips: { streamCursor: string; edges: { node: { tripId: string } }[] } }>(
      `{ trips(first: 100, orderBy: [TRIP_ID_ASC]) { streamCursor edges { node { tripId } } } }`,
    );
    for (const [id, value] of await viewInSql(gw.database.pool)) view.set(id, value);
    expect(body.data!.trips.edges).toHaveLength(10);
    added = new TripStream(gw.client(mode), { after: body.data!.trips.streamCursor });
    changes = new ChangeStream(gw.client(mode), { after: body.data!.trips.streamCursor });
    await Promise.all([added.started(), changes.started()]);
  });
  afterAll(async () => {
    added.close();
    changes.close();
    await gw.close();
  });

  /** Waits until the tripChanges view equals the table, and checks every change fitted the view. */
  async function inStep(): Promise<void> {
    const want = await viewInSql(gw.database.pool);
    await changes.until(() => {
      const probe = new Map(view);
      applyChanges(probe, changes.changes);
      return sameView(probe, want);
    }, 'the view to match the table');
    const replay = new Map(view);
    expect(applyChanges(replay, changes.changes)).toEqual([]);
  }

  it('delivers a lower id after a higher one', async () => {
    await insertTrips(gw.database.pool, [50_000]);
    await added.until(() => added.ids.includes('50000'), 'trip 50000');
    await insertTrips(gw.database.pool, [40_000]);
    await added.until(() => added.ids.includes('40000'), 'trip 40000');
    expect(added.ids).toEqual(['50000', '40000']);
    await inStep();
  });

  it('delivers a row deleted and inserted again, and the update in between', async () => {
    await gw.database.pool.query(`DELETE FROM "default".trips_synced WHERE id = 5`);
    await gw.database.pool.query(
      `INSERT INTO "default".trips_synced (id, fare_amount, pickup_zip) VALUES (5, 99, 10001)`,
    );
    await added.until(() => added.ids.includes('5'), 'trip 5 again');
    expect(added.ids.filter((id) => id === '5')).toHaveLength(1);
    expect(added.batches.flatMap((b) => b.trips).find((t) => t.tripId === '5')?.fareAmount).toBe(99);
    await inStep();

    await gw.database.pool.query(`UPDATE "default".trips_synced SET fare_amount = 12.25 WHERE id = 3`);
    await inStep();
    const last = changes.changes.at(-1)!;
    expect(last).toMatchObject({ kind: 'UPDATE', tripId: '3', trip: { fareAmount: 12.25 } });
    // An update is no new row.
    expect(added.ids).not.toContain('3');
  });

  it('splits one UPDATE into a delete of a changed key, an insert of its new key, the real updates, and nothing for rows rewritten unchanged', async () => {
    const before = changes.changes.length;
    await gw.database.pool.query(
      `UPDATE "default".trips_synced
          SET id = CASE id WHEN 5 THEN 80005 ELSE id END,
              fare_amount = CASE id WHEN 3 THEN 66.5 ELSE fare_amount END
        WHERE id IN (2, 3, 5)`,
    );
    await inStep();
    const made = changes.changes.slice(before).map((change) => `${change.kind} ${change.tripId}`);
    expect(made.sort()).toEqual(['DELETE 5', 'INSERT 80005', 'UPDATE 3']);
    await added.until(() => added.ids.includes('80005'), 'trip 80005');
    expect(added.ids.filter((id) => id === '80005')).toHaveLength(1);
  });

  it('delivers two concurrent transactions with the higher id committing first', async () => {
    const [lower, higher] = await Promise.all([gw.database.pool.connect(), gw.database.pool.connect()]);
    try {
      await lower.query('BEGIN');
      await insertTrips(lower, [60_000]);
      await higher.query('BEGIN');
      await insertTrips(higher, [60_001]);
      await higher.query('COMMIT');
      await added.until(() => added.ids.includes('60001'), 'trip 60001');
      await lower.query('COMMIT');
      await added.until(() => added.ids.includes('60000'), 'trip 60000');
    } finally {
      lower.release();
      higher.release();
    }
    await inStep();
  });

  it('delivers the row of a transaction held open while later ones commit, exactly once', async () => {
    const held = await gw.database.pool.connect();
    try {
      await held.query('BEGIN');
      await insertTrips(held, [61_000]);
      await gw.database.pool.query(`UPDATE "default".trips_synced SET fare_amount = 1 WHERE id = 2`);
      for (const id of [61_001, 61_002, 61_003]) {
        await insertTrips(gw.database.pool, [id]);
        await added.until(() => added.ids.includes(String(id)), `trip ${id}`);
      }
      expect(added.ids).not.toContain('61000');
      await held.query('COMMIT');
    } finally {
      held.release();
    }
    await added.until(() => added.ids.includes('61000'), 'trip 61000');
    await sleep(200);
    expect(added.ids.filter((id) => id.startsWith('6100'))).toEqual(['61001', '61002', '61003', '61000']);
    await inStep();
  });

  it('does not replay a snapshot refresh, and delivers what changed in it and what was inserted meanwhile', async () => {
    const countBefore = added.ids.length;
    const refresh = await gw.database.pool.connect();
    try {
      await refresh.query('BEGIN');
      await refresh.query(`CREATE TEMP TABLE keep ON COMMIT DROP AS SELECT * FROM "default".trips_synced`);
      await refresh.query('DELETE FROM "default".trips_synced');
      // Meanwhile another writer commits new rows (they do not conflict with the refresh's ids).
      await insertTrips(gw.database.pool, [70_000, 70_001]);
      await refresh.query(`INSERT INTO "default".trips_synced SELECT * FROM keep WHERE id <> 7`);
      await refresh.query(`UPDATE "default".trips_synced SET fare_amount = 77 WHERE id = 8`);
      await insertTrips(refresh, [70_002]);
      await refresh.query('COMMIT');
    } finally {
      refresh.release();
    }
    await added.until(() => added.ids.length >= countBefore + 3, 'the new rows');
    await inStep();
    await sleep(300);
    expect(added.ids.slice(countBefore).sort()).toEqual(['70000', '70001', '70002']);
    const refreshed = changes.changes.slice(-6).map((c) => `${c.kind} ${c.tripId}`);
    expect(refreshed).toEqual(expect.arrayContaining(['DELETE 7', 'UPDATE 8', 'INSERT 70002']));
    // Only those: no UPDATE for the rows rewritten unchanged.
    const sinceRefresh = changes.changes.filter((c) => ['1', '4', '6', '9', '10'].includes(c.tripId));
    expect(sinceRefresh).toEqual([]);
  });
});

describe('tripChanges for a filtered view', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('live_exact_filter', { LIVE_POLL_INTERVAL_MS: '50' });
    await insertTrips(gw.database.pool, [1, 2, 3]);
  });
  afterAll(() => gw.close());

  it('turns a row entering the filter into INSERT, leaving it into DELETE, a change inside into UPDATE', async () => {
    const pool: pg.Pool = gw.database.pool;
    const stream = new ChangeStream(gw.client('single'), { filter: { fareAmount: { gte: 50 } } });
    await stream.started();
    await pool.query(`UPDATE "default".trips_synced SET fare_amount = 60 WHERE id = 1`);
    await stream.until(() => stream.changes.length >= 1, 'the row entering');
    await pool.query(`UPDATE "default".trips_synced SET fare_amount = 70 WHERE id = 1`);
    await stream.until(() => stream.changes.length >= 2, 'the change inside');
    await pool.query(`UPDATE "default".trips_synced SET fare_amount = 5 WHERE id = 1`);
    await stream.until(() => stream.changes.length >= 3, 'the row leaving');
    // Outside the filter all along: nothing.
    await pool.query(`UPDATE "default".trips_synced SET fare_amount = 6 WHERE id = 2`);
    await pool.query(`DELETE FROM "default".trips_synced WHERE id = 3`);
    await pool.query(`INSERT INTO "default".trips_synced (id, fare_amount) VALUES (4, 55)`);
    await stream.until(() => stream.changes.length >= 4, 'the insert inside');
    await sleep(200);
    expect(stream.changes.map((c) => `${c.kind} ${c.tripId} ${c.trip?.fareAmount ?? '-'}`)).toEqual([
      'INSERT 1 60',
      'UPDATE 1 70',
      'DELETE 1 -',
      'INSERT 4 55',
    ]);
    stream.close();
  });
});

describe('the change record', () => {
  it('stores its arrays uncompressed, so a bulk write does not pay for compressing them', async () => {
    // bench/capture-writes.ts: compressing one array of a 300,000-row COPY's ids cost a quarter of the COPY.
    const gw = await startLiveGateway('live_exact_storage');
    try {
      const { rows } = await gw.database.pool.query<{ name: string; storage: string }>(
        `SELECT a.attname AS name, a.attstorage AS storage FROM pg_attribute a
          WHERE a.attrelid = 'lakebase_graphql.trip_change_log'::regclass AND a.attndims > 0 ORDER BY 1`,
      );
      expect(rows.map((row) => row.name)).toContain('ids');
      expect(rows.length).toBe(7);
      expect(rows.filter((row) => row.storage !== 'e')).toEqual([]);
    } finally {
      await gw.close();
    }
  });

  it('expires cursors older than its retention with CURSOR_EXPIRED and how to recover', async () => {
    // A cluster of its own: the pruner deletes only below the cluster's xmin horizon, which another test file's
    // open write transaction on the shared cluster can hold back as long as it likes.
    const database = await createPrivateTestDatabase('live_exact_retention');
    const gw = await startLiveGateway(
      'live_exact_retention',
      { LIVE_POLL_INTERVAL_MS: '50', LIVE_CHANGE_RETENTION_SECONDS: '1' },
      { database },
    );
    try {
      const first = new TripStream(gw.client('distinct'));
      await first.started();
      const old = first.lastCursor!;
      first.close();
      await insertTrips(gw.database.pool, [1, 2]);
      // The pruner runs every second; once it has dropped changes past the old cursor, it expires.
      const expired = async (): Promise<TripStream> => {
        const deadline = Date.now() + 90_000;
        for (;;) {
          const stream = new TripStream(gw.client('distinct'), { after: old });
          await stream.until(() => stream.batches.length > 0 || stream.errors.length > 0, 'an answer');
          if (stream.errors.length > 0) return stream;
          stream.close();
          if (Date.now() > deadline) throw new Error('the old cursor was still served after 90 s');
          await sleep(200);
        }
      };
      const stream = await namingHorizonHolders(gw.database.pool, expired());
      expect(stream.errors[0]?.extensions?.code).toBe('CURSOR_EXPIRED');
      expect(stream.errors[0]?.message).toContain('streamCursor');
    } finally {
      await gw.close();
      await database.drop();
    }
  }, 150_000);

  it('is reported on /health, and switched off the gateway falls back to the key high-water mark and says why', async () => {
    const exact = await startLiveGateway('live_exact_health', {});
    try {
      const health = (await (await fetch(`${exact.origin}/health`)).json()) as { liveChanges: string };
      expect(health.liveChanges).toBe('trigger');
    } finally {
      await exact.close();
    }
    const lines: { level: string; message: string }[] = [];
    const logger = recordingLogger(lines);
    const fallback = await startLiveGateway('live_exact_fallback', { LIVE_CHANGE_CAPTURE: 'off' }, { logger });
    try {
      const health = (await (await fetch(`${fallback.origin}/health`)).json()) as { liveChanges: string };
      expect(health.liveChanges).toBe('key-high-water');
      const warning = lines.find((line) => line.level === 'warn' && line.message.includes('NOT exact'));
      // Switched off on purpose, so the advice is the switch (the missing grant's advice: aggregates-rollup-trigger).
      expect(warning?.message).toContain('LIVE_CHANGE_CAPTURE=off');
      expect(warning?.message).not.toContain('GRANT TRIGGER');
      const stream = new ChangeStream(fallback.client('distinct'));
      await stream.until(() => stream.errors.length > 0, 'the error');
      expect(stream.errors[0]!.extensions?.code).toBe('CHANGE_CAPTURE_UNAVAILABLE');
      expect(stream.errors[0]!.message).toContain('LIVE_CHANGE_CAPTURE=off');
      stream.close();
    } finally {
      await fallback.close();
    }
  });
});

function sameView(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([id, value]) => b.get(id) === value);
}

function recordingLogger(lines: { level: string; message: string }[]) {
  const make = (): Logger => ({
    debug: () => undefined,
    info: (message: string) => void lines.push({ level: 'info', message }),
    warn: (message: string) => void lines.push({ level: 'warn', message }),
    error: (message: string) => void lines.push({ level: 'error', message }),
    child: () => make(),
  });
  return make();
}
