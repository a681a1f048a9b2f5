/**
 * Resume across a database restart (issue 12): a PostgreSQL cluster of the
 * test's own is stopped (fast shutdown: every session ends) and started again
 * on the same data and port while real graphql-sse clients follow tripChanges
 * and tripsAdded. One client of each stays subscribed through the restart;
 * another stops before it and resumes after it from its last cursor. Each gets
 * exactly the changes SQL says happened: none lost, none doubled.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/dev/embedded-postgres.js';
import type { TestDatabase } from './support/database.js';
import {
  applyChanges,
  ChangeStream,
  expectedIds,
  insertTrips,
  sleep,
  startLiveGateway,
  TripStream,
  viewInSql,
  type LiveGateway,
  type ReceivedChange,
} from './support/live.js';

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function sameView(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([id, value]) => b.get(id) === value);
}

describe('live streams across a database restart', () => {
  let folder: string;
  let cluster: EmbeddedDatabase;
  let database: TestDatabase;
  let gw: LiveGateway;

  beforeAll(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'lakebase-graphql-restart-'));
    // persistent: the data directory must outlive the first server.
    cluster = await startEmbeddedPostgres({ dataDir: path.join(folder, 'pg'), persistent: true });
    const admin = new pg.Client({ connectionString: cluster.connectionString });
    await admin.connect();
    await admin.query('CREATE DATABASE live_restart');
    await admin.end();
    const url = new URL(cluster.connectionString);
    url.pathname = '/live_restart';
    const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
    // Its connections die with the server; an idle one's error must not fail the run.
    pool.on('error', () => undefined);
    database = { url: url.toString(), name: 'live_restart', pool, drop: () => pool.end() };
    gw = await startLiveGateway('live_db_restart', { LIVE_POLL_INTERVAL_MS: '100' }, { database });
    expect(gw.app.live.mechanism).toBe('trigger');
  });
  afterAll(async () => {
    await gw?.close();
    await database?.drop();
    await cluster?.stop();
    // The server's user may have been given a data directory elsewhere (see embedded-postgres.ts).
    if (cluster) await rm(cluster.dataDir, { recursive: true, force: true });
    await rm(folder, { recursive: true, force: true });
  });

  it('delivers every change exactly once to clients that stay subscribed and to clients that resume', async () => {
    await insertTrips(database.pool, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const { body } = await gw.query<{ trips: { streamCursor: string } }>(`{ trips(first: 1) { streamCursor } }`);
    const start = body.data!.trips.streamCursor;
    const initial = await viewInSql(database.pool);
    const staying = {
      added: new TripStream(gw.client('distinct'), { after: start }),
      changes: new ChangeStream(gw.client('single'), { after: start }),
    };
    const leaving = {
      added: new TripStream(gw.client('single'), { after: start }),
      changes: new ChangeStream(gw.client('distinct'), { after: start }),
    };
    await Promise.all([...Object.values(staying), ...Object.values(leaving)].map((stream) => stream.started()));

    // Before the restart: an insert above and below the maximum, an update, a delete.
    await insertTrips(database.pool, [20, 15]);
    await database.pool.query(`UPDATE "default".trips_synced SET fare_amount = 42 WHERE id = 3`);
    await database.pool.query(`DELETE FROM "default".trips_synced WHERE id = 4`);
    const before = await viewInSql(database.pool);
    for (const { changes } of [staying, leaving]) {
      await changes.until(() => {
        const probe = new Map(initial);
        applyChanges(probe, changes.changes);
        return sameView(probe, before);
      }, 'the changes before the restart');
    }
    for (const { added } of [staying, leaving]) {
      await added.until(() => added.ids.length >= 2, 'the rows before the restart');
    }
    leaving.added.close();
    leaving.changes.close();

    const feed = gw.app.live.feed;
    const failedBefore = feed.stats().failedStatements;
    const listener = gw.app.live.listener!;
    const connectionsBefore = listener.connections;
    await cluster.stop();
    await until(() => feed.stats().failedStatements > failedBefore, 'the feed to find the database gone');
    cluster = await startEmbeddedPostgres({ dataDir: cluster.dataDir, port: cluster.port, persistent: true });
    await until(() => listener.listening && listener.connections > connectionsBefore, 'LISTEN to reconnect');

    // After the restart: more of each kind, and a row deleted and inserted again.
    await insertTrips(database.pool, [30, 12]);
    await database.pool.query(`UPDATE "default".trips_synced SET fare_amount = 43 WHERE id IN (3, 5)`);
    await database.pool.query(`DELETE FROM "default".trips_synced WHERE id IN (6, 15)`);
    await database.pool.query(`INSERT INTO "default".trips_synced (id, fare_amount) VALUES (6, 66)`);
    const resumed = {
      added: new TripStream(gw.client('distinct'), { after: leaving.added.lastCursor }),
      changes: new ChangeStream(gw.client('single'), { after: leaving.changes.lastCursor }),
    };

    const want = await viewInSql(database.pool);
    const followers = [
      { name: 'subscribed through the restart', stream: staying.changes, earlier: [] as ReceivedChange[] },
      { name: 'resumed after the restart', stream: resumed.changes, earlier: leaving.changes.changes },
    ];
    for (const { name, stream, earlier } of followers) {
      const received = () => [...earlier, ...stream.changes];
      await stream.until(() => {
        const probe = new Map(initial);
        applyChanges(probe, received());
        return sameView(probe, want);
      }, `${name}: the view to match the table`);
      expect(applyChanges(new Map(initial), received()), name).toEqual([]);
      expect(stream.errors, name).toEqual([]);
    }

    // Rows that appeared after the start: those above 10 still there, 15 (deleted since), 6 (deleted, inserted again).
    const appeared = [...(await expectedIds(database.pool, 10)), '15', '6'].sort();
    await staying.added.until(() => staying.added.ids.length >= appeared.length, 'every row that appeared');
    await resumed.added.until(
      () => leaving.added.ids.length + resumed.added.ids.length >= appeared.length,
      'every row that appeared, resumed',
    );
    await sleep(300);
    expect([...staying.added.ids].sort()).toEqual(appeared);
    expect([...leaving.added.ids, ...resumed.added.ids].sort()).toEqual(appeared);
    expect(staying.added.errors).toEqual([]);
    expect(resumed.added.errors).toEqual([]);
    for (const stream of [...Object.values(staying), ...Object.values(resumed)]) stream.close();
  });
});
