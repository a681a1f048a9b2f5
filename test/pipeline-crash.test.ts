/**
 * TRIGGERED: a version is applied exactly once, even when the worker's
 * connection is killed mid-apply or the worker is replaced by a new one.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSyncSource } from '../src/dev/pipeline/local-sync-source.js';
import { relations, type PipelineNames } from '../src/dev/pipeline/names.js';
import { seedLocalPipeline } from '../src/dev/pipeline/seed.js';
import { readUpdate, type PipelineUpdate } from '../src/dev/pipeline/updates.js';
import { SyncWorker } from '../src/dev/pipeline/worker.js';
import { lockWaiters, type TestDatabase } from './support/database.js';
import {
  createPipelineTestDatabase,
  createWorkerPool,
  eventually,
  headVersion,
  SyncListener,
  tableDifference,
  uniqueNames,
} from './support/pipeline.js';

describe('TRIGGERED worker across crashes', () => {
  let db: TestDatabase;
  let workerPool: pg.Pool;
  const APP = 'pipeline-crash-worker';
  beforeAll(async () => {
    db = await createPipelineTestDatabase('pipeline_crash');
    workerPool = createWorkerPool(db.url, APP);
  });
  afterAll(async () => {
    await workerPool.end();
    await db.drop();
  });

  /** Records every row event on the synced table, to count how often each change was applied. */
  async function audit(names: PipelineNames) {
    const synced = relations(names).synced;
    const table = `public.audit_${names.syncedSchema}`;
    await db.pool.query(`
      CREATE TABLE ${table} (op text, id bigint);
      CREATE FUNCTION public.audit_fn_${names.syncedSchema}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO ${table} VALUES (TG_OP, CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
        RETURN NULL;
      END $$;
      CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON ${synced}
        FOR EACH ROW EXECUTE FUNCTION public.audit_fn_${names.syncedSchema}();`);
    return async () => {
      const { rows } = await db.pool.query<{ op: string; id: string; times: string }>(
        `SELECT op, id, count(*) AS times FROM ${table} GROUP BY op, id ORDER BY op, id`,
      );
      return rows.map((row) => `${row.op} ${row.id} x${row.times}`);
    };
  }

  const completed = (names: PipelineNames, updateId: string | undefined) =>
    eventually(
      () => readUpdate(db.pool, names, updateId ?? ''),
      (update: PipelineUpdate | null) => update?.state === 'COMPLETED' || update?.state === 'FAILED',
      `update ${updateId} to finish`,
    );

  it('re-applies a batch killed mid-transaction once, and a new worker never re-applies', async () => {
    const names = uniqueNames('crash');
    const r = relations(names);
    await seedLocalPipeline(db.pool, {
      names,
      policy: 'TRIGGERED',
      loadSource: async (client) => {
        await client.query(`INSERT INTO ${r.source} (id, fare_amount) SELECT g, 0 FROM generate_series(1, 100) g`);
      },
    });
    const applied = await audit(names);
    const listener = await SyncListener.start(db.url, names);
    const source = new LocalSyncSource(db.pool, { names, runUpdatesWithoutWorker: false });
    const first = new SyncWorker(workerPool, { names, intervalMs: 3_600_000, retryDelayMs: 20 });
    await first.start();
    let second: SyncWorker | undefined;
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      await db.pool.query(`INSERT INTO ${r.source} (id, fare_amount) VALUES (101, 1), (102, 1)`);
      await db.pool.query(`UPDATE ${r.source} SET fare_amount = 2 WHERE id IN (5, 6)`);
      await db.pool.query(`DELETE FROM ${r.source} WHERE id = 7`);

      // Hold row 5 so the worker's apply blocks on it, then kill the worker's connection mid-apply.
      await blocker.query('BEGIN');
      await blocker.query(`SELECT id FROM ${r.synced} WHERE id = 5 FOR UPDATE`);
      const { updateId } = await source.startUpdate({ fullRefresh: false });
      const pid = await eventually(
        async () => (await lockWaiters(db.pool, APP))[0] ?? null,
        (found) => found !== null,
        'the worker to block on row 5',
      );
      await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      await blocker.query('ROLLBACK');

      const update = await completed(names, updateId);
      expect(update).toMatchObject({ state: 'COMPLETED', attempts: 2 });
      expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });
      expect(await applied()).toEqual(['DELETE 7 x1', 'INSERT 101 x1', 'INSERT 102 x1', 'UPDATE 5 x1', 'UPDATE 6 x1']);
      const head = await headVersion(db.pool, names);
      await listener.syncedTo(head);
      const status = (await source.getSyncedTable()).data_synchronization_status;
      expect(status?.detailed_state).toBe('SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE');
      expect(status?.last_sync?.delta_table_sync_info?.delta_commit_version).toBe(head);

      // The worker dies right after committing, before marking its update done:
      // simulated by putting the update back to RUNNING and replacing the worker.
      await first.stop();
      await db.pool.query(`UPDATE ${r.updates} SET state = 'RUNNING' WHERE update_id = $1`, [updateId]);
      second = new SyncWorker(workerPool, { names, intervalMs: 3_600_000, retryDelayMs: 20 });
      await second.start();
      expect(await completed(names, updateId)).toMatchObject({ state: 'COMPLETED', attempts: 3 });
      const { updateId: again } = await source.startUpdate({ fullRefresh: false });
      expect(await completed(names, again)).toMatchObject({ state: 'COMPLETED' });
      expect(await applied()).toEqual(['DELETE 7 x1', 'INSERT 101 x1', 'INSERT 102 x1', 'UPDATE 5 x1', 'UPDATE 6 x1']);

      // New changes after the restart are applied once more, and only those.
      await db.pool.query(`UPDATE ${r.source} SET fare_amount = 3 WHERE id = 101`);
      const { updateId: third } = await source.startUpdate({ fullRefresh: false });
      expect(await completed(names, third)).toMatchObject({ state: 'COMPLETED' });
      expect(await applied()).toEqual([
        'DELETE 7 x1',
        'INSERT 101 x1',
        'INSERT 102 x1',
        'UPDATE 5 x1',
        'UPDATE 6 x1',
        'UPDATE 101 x1',
      ]);

      // Applied ranges chain without overlap: each batch starts where the previous ended.
      const { rows: history } = await db.pool.query<{ from_version: string | null; to_version: string }>(
        `SELECT from_version, to_version FROM ${r.history} WHERE synced_schema = $1 AND from_version IS DISTINCT FROM to_version
          ORDER BY sync_end`,
        [names.syncedSchema],
      );
      for (let i = 1; i < history.length; i++) expect(history[i]?.from_version).toBe(history[i - 1]?.to_version);
      expect(Number(history.at(-1)?.to_version)).toBe(await headVersion(db.pool, names));
    } finally {
      await blocker.end().catch(() => undefined);
      await first.stop();
      await second?.stop();
      await listener.close();
    }
  });

  it('refuses a second worker for the same synced table', async () => {
    const names = uniqueNames('twice');
    await seedLocalPipeline(db.pool, { names });
    const one = new SyncWorker(workerPool, { names, intervalMs: 3_600_000 });
    await one.start();
    try {
      const two = new SyncWorker(workerPool, { names, intervalMs: 3_600_000 });
      await expect(two.start()).rejects.toThrow(
        /another pipeline worker already runs for main\.syn_twice_\d+\.trips_synced/,
      );
    } finally {
      await one.stop();
    }
  });
});
