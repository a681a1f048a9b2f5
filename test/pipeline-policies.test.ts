/**
 * For each scheduling policy: after inserts, updates and deletes in the source
 * plus a sync, the synced table equals the source, the status reports the new
 * version with later timestamps, and a NOTIFY announced the sync.
 */
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalSyncSource } from '../src/dev/pipeline/local-sync-source.js';
import { relations, type PipelineNames, type SchedulingPolicy } from '../src/dev/pipeline/names.js';
import { randomTrips, seededRandom } from '../src/dev/pipeline/random-trips.js';
import { seedLocalPipeline } from '../src/dev/pipeline/seed.js';
import { deleteTrips, insertNewTrips, insertTrips, updateTrips } from '../src/dev/pipeline/source-writes.js';
import { readUpdate } from '../src/dev/pipeline/updates.js';
import { SyncWorker } from '../src/dev/pipeline/worker.js';
import type { SyncedTableInfo } from '../src/sync/source.js';
import type { TestDatabase } from './support/database.js';
import {
  createPipelineTestDatabase,
  createWorkerPool,
  countRows,
  headVersion,
  SyncListener,
  tableDifference,
  uniqueNames,
} from './support/pipeline.js';

const random = seededRandom(42);

describe.each<SchedulingPolicy>(['SNAPSHOT', 'TRIGGERED', 'CONTINUOUS'])('%s policy', (policy) => {
  let db: TestDatabase;
  let workerPool: pg.Pool;
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    db = await createPipelineTestDatabase(`pipeline_${policy}`);
    workerPool = createWorkerPool(db.url);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(async () => {
    await workerPool.end();
    await db.drop();
  });

  async function seeded(): Promise<{ names: PipelineNames; source: LocalSyncSource; listener: SyncListener }> {
    const names = uniqueNames(policy.toLowerCase());
    const seed = await seedLocalPipeline(db.pool, {
      names,
      policy,
      loadSource: async (client) => {
        await insertTrips(client, names, randomTrips(1n, 300, { random }));
      },
    });
    expect(seed).toMatchObject({ sourceFilledFrom: 'loader', sourceRows: 300, snapshot: 'ran' });
    expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });
    const listener = await SyncListener.start(db.url, names);
    cleanups.push(() => listener.close());
    return { names, source: new LocalSyncSource(db.pool, { names, runUpdatesWithoutWorker: false }), listener };
  }

  async function mutateSource(names: PipelineNames): Promise<void> {
    const r = relations(names);
    await insertNewTrips(db.pool, names, 25, (first, count) => randomTrips(first, count, { random }));
    expect(await updateTrips(db.pool, names, { randomCount: 10 })).toHaveLength(10);
    expect(await deleteTrips(db.pool, names, { randomCount: 7 })).toHaveLength(7);
    // Several changes to one id in one transaction, and an id that moves.
    await db.pool.query(`BEGIN;
      INSERT INTO ${r.source} (id, fare_amount) VALUES (1000000, 1);
      UPDATE ${r.source} SET fare_amount = 2 WHERE id = 1000000;
      UPDATE ${r.source} SET id = 1000001 WHERE id = (SELECT min(id) FROM ${r.source});
      COMMIT`);
    // The reference app's test insert.
    await db.pool.query(
      `INSERT INTO ${r.source} (id, tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, fare_amount,
                                pickup_zip, dropoff_zip)
       VALUES (21933, '2016-02-14 16:52:13', '2016-02-14 17:16:04', 4.94, 19.0, 10282, 10171)`,
    );
  }

  function position(info: SyncedTableInfo) {
    const status = info.data_synchronization_status;
    return {
      version: status?.last_sync?.delta_table_sync_info?.delta_commit_version ?? -1,
      commitAt: status?.last_sync?.delta_table_sync_info?.delta_commit_timestamp ?? '',
      startedAt: status?.last_sync?.sync_start_timestamp ?? '',
      endedAt: status?.last_sync?.sync_end_timestamp ?? '',
    };
  }

  async function startWorker(names: PipelineNames, intervalMs: number): Promise<SyncWorker> {
    const worker = new SyncWorker(workerPool, { names, policy, intervalMs, retryDelayMs: 50 });
    await worker.start();
    cleanups.push(() => worker.stop());
    return worker;
  }

  it('brings the synced table level with the source, advancing versions and timestamps', async () => {
    const { names, source, listener } = await seeded();
    const before = await source.getSyncedTable();
    expect(before.spec?.scheduling_policy).toBe(policy);

    let updateId: string | undefined;
    if (policy === 'CONTINUOUS') {
      await startWorker(names, 100);
      await mutateSource(names);
    } else {
      // A worker in TRIGGERED/SNAPSHOT mode waits for an update however long
      // the interval: the interval here is far longer than the test.
      await startWorker(names, 3_600_000);
      await mutateSource(names);
      expect(await tableDifference(db.pool, names)).not.toEqual({ missing: 0, extra: 0 });
      ({ updateId } = await source.startUpdate({ fullRefresh: false }));
      expect(updateId).toMatch(/^[0-9a-f-]{36}$/);
    }
    const head = await headVersion(db.pool, names);
    const notification = await listener.syncedTo(head);
    // The NOTIFY is sent in the applying transaction: the rows are there on arrival.
    expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });
    expect(notification).toMatchObject({
      event: 'sync',
      schema: names.syncedSchema,
      table: names.syncedTable,
      version: head,
      snapshot: policy === 'SNAPSHOT',
    });
    // ...and so is the update's completion.
    if (updateId) expect(await readUpdate(db.pool, names, updateId)).toMatchObject({ state: 'COMPLETED' });

    const after = await source.getSyncedTable();
    const [was, now] = [position(before), position(after)];
    expect(was.version).toBeGreaterThanOrEqual(0);
    expect(now.version).toBe(head);
    expect(now.version).toBeGreaterThan(was.version);
    // Fixed-width RFC 3339 with microseconds: string order is time order.
    expect(now.commitAt > was.commitAt).toBe(true);
    expect(now.startedAt > was.endedAt).toBe(true);
    expect(now.endedAt >= now.startedAt).toBe(true);
    const status = after.data_synchronization_status;
    if (policy === 'CONTINUOUS') {
      expect(status?.detailed_state).toBe('SYNCED_TABLE_ONLINE_CONTINUOUS_UPDATE');
      expect(status?.continuous_update_status).toEqual({ last_processed_commit_version: head, timestamp: now.endedAt });
    } else {
      expect(status?.detailed_state).toBe('SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE');
      expect(status?.triggered_update_status).toEqual({ last_processed_commit_version: head, timestamp: now.endedAt });
    }

    const { rows: history } = await db.pool.query<{
      snapshot: boolean;
      from_version: string | null;
      to_version: string;
    }>(
      `SELECT snapshot, from_version, to_version FROM ${relations(names).history}
        WHERE synced_schema = $1 ORDER BY sync_end`,
      [names.syncedSchema],
    );
    // Seed snapshot first; then incremental batches, except under SNAPSHOT.
    expect(history[0]?.snapshot).toBe(true);
    expect(history.slice(1).every((row) => row.snapshot === (policy === 'SNAPSHOT'))).toBe(true);
    expect(Number(history.at(-1)?.to_version)).toBe(head);
  });

  it('runs a started update in the calling process when no worker is running', async () => {
    const { names, listener } = await seeded();
    const inline = new LocalSyncSource(db.pool, { names });
    await mutateSource(names);
    await inline.startUpdate({ fullRefresh: false });
    await inline.settled();
    expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });
    const head = await headVersion(db.pool, names);
    await listener.syncedTo(head);
    const info = await inline.getSyncedTable();
    expect(info.data_synchronization_status?.last_sync?.delta_table_sync_info?.delta_commit_version).toBe(head);
  });

  it('makes a full refresh a snapshot whatever the policy', async () => {
    const { names, source, listener } = await seeded();
    await startWorker(names, 3_600_000);
    await mutateSource(names);
    const { updateId } = await source.startUpdate({ fullRefresh: true });
    const head = await headVersion(db.pool, names);
    // Under CONTINUOUS the worker may apply the changes incrementally first; the refresh still snapshots.
    await listener.next((n) => n.event === 'sync' && n.snapshot && n.version === head);
    // Completed by the transaction that applied it.
    expect(await readUpdate(db.pool, names, updateId ?? '')).toMatchObject({
      fullRefresh: true,
      state: 'COMPLETED',
      attempts: 1,
      syncedRowCount: await countRows(db.pool, relations(names).source),
    });
    expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });
  });
});
