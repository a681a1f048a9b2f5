/**
 * A snapshot refresh rewrites the whole synced table in one transaction:
 * readers see the old table until it commits and the new one after, never a
 * partly copied table, and ids are stable across it.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSyncSource } from '../src/dev/pipeline/local-sync-source.js';
import { relations } from '../src/dev/pipeline/names.js';
import { seedLocalPipeline } from '../src/dev/pipeline/seed.js';
import type { TestDatabase } from './support/database.js';
import {
  countRows,
  createPipelineTestDatabase,
  eventually,
  InsertGate,
  tableDifference,
  uniqueNames,
} from './support/pipeline.js';

describe('SNAPSHOT refresh', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createPipelineTestDatabase('pipeline_snapshot');
  });
  afterAll(() => db.drop());

  it('is invisible to readers until it commits, then visible all at once', async () => {
    const names = uniqueNames('snap');
    const r = relations(names);
    const settings = { snapshotChunkRows: 500 };
    await seedLocalPipeline(db.pool, {
      names,
      policy: 'SNAPSHOT',
      settings,
      loadSource: async (client) => {
        await client.query(`INSERT INTO ${r.source} (id, fare_amount) SELECT g, g FROM generate_series(1, 5000) g`);
      },
    });
    const oldTotal = await countRows(db.pool, r.synced);
    expect(oldTotal).toBe(5000);
    await db.pool.query(`INSERT INTO ${r.source} (id, fare_amount) SELECT g, g FROM generate_series(5001, 6000) g`);
    await db.pool.query(`DELETE FROM ${r.source} WHERE id % 25 = 0`);
    await db.pool.query(`UPDATE ${r.source} SET fare_amount = -fare_amount WHERE id % 7 = 0`);
    const newTotal = await countRows(db.pool, r.source);
    expect(newTotal).toBe(6000 - 240);

    // Lets the first 500-row chunk through and stops the second inside the open transaction.
    const gate = await InsertGate.close(db.url, db.pool, names, 4242, 500);
    const source = new LocalSyncSource(db.pool, { names, settings });
    const reader = new pg.Client({ connectionString: db.url });
    await reader.connect();
    const seen = new Set<number>();
    let reading = true;
    // A reader hammering the table throughout sees the old table or the new one, nothing between.
    const readLoop = (async () => {
      while (reading) seen.add(Number((await reader.query(`SELECT count(*) AS n FROM ${r.synced}`)).rows[0].n));
    })();
    try {
      await source.startUpdate({ fullRefresh: false });
      await gate.waitForArrival();

      // Mid-copy: readers still see exactly the old table...
      expect(await countRows(db.pool, r.synced)).toBe(oldTotal);
      const { rows: sample } = await db.pool.query<{ fare: number }>(
        `SELECT fare_amount AS fare FROM ${r.synced} WHERE id = 7`,
      );
      expect(sample).toEqual([{ fare: 7 }]);
      // ...while the status shows the update and its progress.
      const during = (await source.getSyncedTable()).data_synchronization_status;
      expect(during?.detailed_state).toBe('SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE');
      expect(during?.triggered_update_status?.triggered_update_progress).toMatchObject({
        synced_row_count: 500,
        total_row_count: newTotal,
        sync_progress_completion: 500 / newTotal,
      });
      await gate.open();
      await source.settled();
      // Keep reading until the reader itself has observed the committed snapshot.
      await eventually(async () => seen.has(newTotal), Boolean, 'the reader to see the new table');
    } finally {
      await gate.open();
      reading = false;
      await readLoop;
      await reader.end();
    }

    expect([...seen].every((count) => count === oldTotal || count === newTotal)).toBe(true);
    expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });
    const after = (await source.getSyncedTable()).data_synchronization_status;
    expect(after?.detailed_state).toBe('SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE');
    expect(after?.triggered_update_status?.triggered_update_progress).toBeUndefined();
  });

  it('keeps ids, so a reader streaming by "id > last seen" neither replays nor misses rows', async () => {
    const names = uniqueNames('keyset');
    const r = relations(names);
    await seedLocalPipeline(db.pool, {
      names,
      policy: 'SNAPSHOT',
      loadSource: async (client) => {
        await client.query(`INSERT INTO ${r.source} (id) SELECT g FROM generate_series(1, 100) g`);
      },
    });
    const source = new LocalSyncSource(db.pool, { names });
    const lastSeen = 100;
    await db.pool.query(`INSERT INTO ${r.source} (id) SELECT g FROM generate_series(101, 120) g`);
    await db.pool.query(`UPDATE ${r.source} SET fare_amount = 1 WHERE id <= 50`);
    await source.startUpdate({ fullRefresh: true });
    await source.settled();
    const { rows } = await db.pool.query<{ id: string }>(`SELECT id FROM ${r.synced} WHERE id > $1 ORDER BY id`, [
      lastSeen,
    ]);
    expect(rows.map((row) => Number(row.id))).toEqual(Array.from({ length: 20 }, (_, i) => 101 + i));
  });
});
