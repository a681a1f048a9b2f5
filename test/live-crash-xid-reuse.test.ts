/**
 * A crash can hand out transaction ids again. Postgres makes an id durable only with its WAL: the ids of
 * transactions that rolled back shortly before a crash, with no commit after them, are given out again after
 * recovery. A stream position taken in that moment counts those ids as seen (below xmax, not in progress), so a
 * client resuming from it after the crash skipped the rows of whichever transaction got one of them.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/dev/embedded-postgres.js';
import type { TestDatabase } from './support/database.js';
import { insertTrips, sleep, startLiveGateway, TripStream, type LiveGateway } from './support/live.js';

describe('a database crash that reuses transaction ids', () => {
  let folder: string;
  let cluster: EmbeddedDatabase;
  let database: TestDatabase;
  let gw: LiveGateway;

  beforeAll(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'lakebase-graphql-crash-'));
    cluster = await startEmbeddedPostgres({ dataDir: path.join(folder, 'pg'), persistent: true });
    const admin = new pg.Client({ connectionString: cluster.connectionString });
    await admin.connect();
    await admin.query('CREATE DATABASE live_crash');
    // The WAL writer flushes what a rollback wrote within this delay (200 ms by default): long, so that the
    // crash below surely comes first.
    await admin.query(`ALTER SYSTEM SET wal_writer_delay = '10s'`);
    await admin.query('SELECT pg_reload_conf()');
    await admin.end();
    const url = new URL(cluster.connectionString);
    url.pathname = '/live_crash';
    const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
    pool.on('error', () => undefined);
    database = { url: url.toString(), name: 'live_crash', pool, drop: () => pool.end() };
    gw = await startLiveGateway('live_crash', { LIVE_POLL_INTERVAL_MS: '100', ROLLUPS: 'off' }, { database });
    expect(gw.app.live.mechanism).toBe('trigger');
  });
  afterAll(async () => {
    await gw?.close();
    await database?.drop();
    await cluster?.stop().catch(() => undefined);
    if (cluster) await rm(cluster.dataDir, { recursive: true, force: true });
    await rm(folder, { recursive: true, force: true });
  });

  it('a cursor taken just before the crash resumes with every row written after it', async () => {
    await insertTrips(database.pool, [1, 2, 3]);
    // Transactions that write and roll back: their ids are taken, their WAL not yet flushed.
    const client = await database.pool.connect();
    try {
      for (let i = 0; i < 40; i += 1) {
        await client.query('BEGIN');
        await client.query(`INSERT INTO "default".trips_synced (id, fare_amount) VALUES (${100 + i}, 1)`);
        await client.query('ROLLBACK');
      }
    } finally {
      client.release();
    }
    const { body } = await gw.query<{ trips: { streamCursor: string } }>(`{ trips(first: 1) { streamCursor } }`);
    const cursor = body.data!.trips.streamCursor;
    const { rows } = await database.pool.query<{ xmax: string }>(
      'SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xmax',
    );
    const xmaxBefore = BigInt(rows[0]!.xmax);

    // Crash: an immediate shutdown (SIGQUIT) ends every process without writing anything more.
    const pid = Number((await readFile(path.join(cluster.dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    process.kill(pid, 'SIGQUIT');
    for (let waited = 0; waited < 100; waited += 1) {
      try {
        process.kill(pid, 0);
        await sleep(100);
      } catch {
        break;
      }
    }
    cluster = await startEmbeddedPostgres({ dataDir: cluster.dataDir, port: cluster.port, persistent: true });
    await expect
      .poll(async () => (await gw.query('{ tripStats { count } }')).body.errors, { timeout: 30_000 })
      .toBeUndefined();

    await insertTrips(database.pool, [1000]);
    const reused = await database.pool.query<{ xid: string }>(
      `SELECT xmin::text AS xid FROM "default".trips_synced WHERE id = 1000`,
    );
    // The case under test: the new row's transaction got an id the cursor's snapshot had already passed.
    expect(BigInt(reused.rows[0]!.xid)).toBeLessThan(xmaxBefore);

    const resumed = new TripStream(gw.client('distinct'), { after: cursor });
    await resumed.until(() => resumed.ids.includes('1000'), 'the row written after the crash', 15_000);
    expect(resumed.ids).toEqual(['1000']);
    resumed.close();
  }, 90_000);
});
