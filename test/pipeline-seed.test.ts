import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relations } from '../src/dev/pipeline/names.js';
import { seedLocalPipeline } from '../src/dev/pipeline/seed.js';
import { SyncWorker } from '../src/dev/pipeline/worker.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import type { TestDatabase } from './support/database.js';
import {
  countRows,
  createPipelineTestDatabase,
  createWorkerPool,
  eventually,
  tableDifference,
  uniqueNames,
} from './support/pipeline.js';

describe('seedLocalPipeline', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createPipelineTestDatabase('pipeline_seed');
  });
  afterAll(() => db.drop());

  it('fills an empty source from an already loaded synced table, once', async () => {
    const names = uniqueNames('from_synced');
    const r = relations(names);
    await ensureSyncedTable(db.pool, names.syncedSchema, names.syncedTable);
    await db.pool.query(`INSERT INTO ${r.synced} (id, fare_amount, pickup_zip, tpep_pickup_datetime)
      SELECT g, g * 1.5, 10000 + g % 50, timestamptz '2016-01-01' + g * interval '1 minute'
        FROM generate_series(1, 2000) g`);
    let loaderCalls = 0;
    const loadSource = async () => {
      loaderCalls++;
    };

    const first = await seedLocalPipeline(db.pool, { names, loadSource });
    expect(first).toMatchObject({
      sourceFilledFrom: 'synced-table',
      sourceRows: 2000,
      snapshot: 'ran',
      syncedVersion: 1,
    });
    expect(loaderCalls).toBe(0);
    expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });
    expect(await countRows(db.pool, r.synced)).toBe(2000);
    // The bulk copy recorded a version but no per-row changes.
    expect(await countRows(db.pool, r.changes)).toBe(0);

    const second = await seedLocalPipeline(db.pool, { names, loadSource });
    expect(second).toMatchObject({
      sourceFilledFrom: null,
      sourceRows: 2000,
      snapshot: 'not-needed',
      syncedVersion: 1,
    });
    expect(loaderCalls).toBe(0);
  });

  it('runs the initial snapshot again when the synced table was dropped after a sync', async () => {
    // Incremental updates applied to the empty table left it with the last version's rows only, while the
    // status said it was in sync.
    const names = uniqueNames('dropped');
    const r = relations(names);
    await ensureSyncedTable(db.pool, names.syncedSchema, names.syncedTable);
    await db.pool.query(`INSERT INTO ${r.synced} (id, fare_amount, pickup_zip, tpep_pickup_datetime)
      SELECT g, g * 1.5, 10001, timestamptz '2016-01-01' + g * interval '1 minute' FROM generate_series(1, 300) g`);
    expect(await seedLocalPipeline(db.pool, { names })).toMatchObject({ snapshot: 'ran', syncedVersion: 1 });
    await db.pool.query(`DROP TABLE ${r.synced}`);

    const again = await seedLocalPipeline(db.pool, { names });
    expect(again).toMatchObject({ snapshot: 'ran', sourceFilledFrom: null, sourceRows: 300 });
    expect(await countRows(db.pool, r.synced)).toBe(300);
    expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });
  });

  it('uses the loader when both tables are empty, and registers the requested policy', async () => {
    const names = uniqueNames('loader');
    const r = relations(names);
    const result = await seedLocalPipeline(db.pool, {
      names,
      policy: 'SNAPSHOT',
      loadSource: async (client, source) => {
        expect(source).toEqual({ schema: names.sourceSchema, table: names.sourceTable });
        await client.query(`INSERT INTO ${r.source} (id) SELECT g FROM generate_series(1, 50) g`);
      },
    });
    expect(result).toMatchObject({ sourceFilledFrom: 'loader', sourceRows: 50, snapshot: 'ran' });
    expect(await countRows(db.pool, r.synced)).toBe(50);
    const { rows } = await db.pool.query(`SELECT scheduling_policy FROM ${r.syncedTables} WHERE synced_schema = $1`, [
      names.syncedSchema,
    ]);
    expect(rows).toEqual([{ scheduling_policy: 'SNAPSHOT' }]);
  });

  it('leaves the snapshot to a running worker', async () => {
    const names = uniqueNames('worker');
    const r = relations(names);
    await seedLocalPipeline(db.pool, { names });
    const pool = createWorkerPool(db.url);
    const worker = new SyncWorker(pool, { names, intervalMs: 3_600_000 });
    await worker.start();
    try {
      // Rows that reached the synced table some other way (e.g. a sample load before the pipeline existed).
      await db.pool.query(`INSERT INTO ${r.synced} (id) SELECT g FROM generate_series(1, 30) g`);
      const result = await seedLocalPipeline(db.pool, { names });
      expect(result).toMatchObject({ sourceFilledFrom: 'synced-table', sourceRows: 30, snapshot: 'queued' });
      await eventually(
        async () =>
          (
            await db.pool.query(
              `SELECT state FROM ${r.updates} WHERE cause = 'INITIALIZATION' AND synced_schema = $1 ORDER BY requested_at DESC LIMIT 1`,
              [names.syncedSchema],
            )
          ).rows[0]?.state as string,
        (state) => state === 'COMPLETED',
        'the worker to run the queued snapshot',
      );
      expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });
    } finally {
      await worker.stop();
      await pool.end();
    }
  });
});
