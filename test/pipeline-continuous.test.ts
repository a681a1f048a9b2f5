/**
 * CONTINUOUS: source changes reach the synced table with no refresh call,
 * woken by the source's commit notifications or by the interval alone, and
 * the worker rides out dropped connections without losing or repeating rows.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relations, type PipelineNames } from '../src/dev/pipeline/names.js';
import { seedLocalPipeline } from '../src/dev/pipeline/seed.js';
import { insertNewTrips } from '../src/dev/pipeline/source-writes.js';
import { randomTrips } from '../src/dev/pipeline/random-trips.js';
import { SyncWorker, type SyncWorkerOptions } from '../src/dev/pipeline/worker.js';
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

describe('CONTINUOUS worker', () => {
  let db: TestDatabase;
  const APP = 'pipeline-continuous-worker';
  let workerPool: pg.Pool;
  beforeAll(async () => {
    db = await createPipelineTestDatabase('pipeline_continuous');
    workerPool = createWorkerPool(db.url, APP);
  });
  afterAll(async () => {
    await workerPool.end();
    await db.drop();
  });

  async function running(label: string, options: SyncWorkerOptions) {
    const names = uniqueNames(label);
    await seedLocalPipeline(db.pool, { names, policy: 'CONTINUOUS' });
    const listener = await SyncListener.start(db.url, names);
    const worker = new SyncWorker(workerPool, { names, retryDelayMs: 20, maxRetryDelayMs: 200, ...options });
    await worker.start();
    return {
      names,
      listener,
      worker,
      async close() {
        await worker.stop();
        await listener.close();
      },
    };
  }

  const insert = (names: PipelineNames, count: number) =>
    insertNewTrips(db.pool, names, count, (first, n) => randomTrips(first, n));

  it('applies each source commit without a refresh, woken by its notification', async () => {
    // An interval far longer than the test: only the commit notifications can wake it.
    const { names, listener, close } = await running('listen', { intervalMs: 3_600_000 });
    try {
      for (let batch = 0; batch < 5; batch++) {
        await insert(names, 20);
        await listener.syncedTo(await headVersion(db.pool, names));
      }
      await db.pool.query(`DELETE FROM ${relations(names).source} WHERE id % 3 = 0`);
      await listener.syncedTo(await headVersion(db.pool, names));
      expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });
    } finally {
      await close();
    }
  });

  it('applies changes on its interval when not listening to source commits', async () => {
    const { names, listener, close } = await running('poll', { intervalMs: 50, wakeOnSourceCommit: false });
    try {
      await insert(names, 30);
      await listener.syncedTo(await headVersion(db.pool, names));
      expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });
    } finally {
      await close();
    }
  });

  it('reconnects after its connections are killed and resumes where it stopped', async () => {
    const { names, listener, close } = await running('drop', { intervalMs: 100 });
    try {
      await insert(names, 10);
      await listener.syncedTo(await headVersion(db.pool, names));
      const killed = await db.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`,
        [APP],
      );
      expect(killed.rowCount).toBeGreaterThan(0);
      // Written while the worker has no connection.
      await insert(names, 10);
      await db.pool.query(`UPDATE ${relations(names).source} SET fare_amount = 99 WHERE id <= 5`);
      await listener.syncedTo(await headVersion(db.pool, names));
      expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });
      // The worker holds its lock again on a fresh connection.
      await eventually(
        async () =>
          (
            await db.pool.query(
              `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1`,
              [APP],
            )
          ).rows[0].n as number,
        (n) => n === 1,
        'the worker to hold the runner lock again',
      );
    } finally {
      await close();
    }
  });

  it('writes a batch over several connections, the highest ids committing first; a writer killed mid-batch is finished without writing a row twice', async () => {
    const WRITERS_APP = 'pipeline-continuous-writers';
    const pool = new pg.Pool({ connectionString: db.url, max: 5, application_name: WRITERS_APP });
    pool.on('error', () => undefined);
    const names = uniqueNames('writers');
    const r = relations(names);
    await seedLocalPipeline(db.pool, {
      names,
      policy: 'CONTINUOUS',
      loadSource: async (client) => {
        await client.query(`INSERT INTO ${r.source} (id, fare_amount) SELECT g, 0 FROM generate_series(1, 200) g`);
      },
    });
    // A deferred constraint trigger runs at COMMIT: the order of its rows is the order the writers committed in,
    // and a transaction that never commits leaves none.
    const seen = `"${names.syncedSchema}".commits_seen`;
    await db.pool.query(`
      CREATE TABLE ${seen} (n bigserial PRIMARY KEY, id bigint NOT NULL, xid xid8 NOT NULL);
      CREATE FUNCTION "${names.syncedSchema}".note_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO ${seen} (id, xid) VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, pg_current_xact_id());
        RETURN NULL;
      END $$;
      CREATE CONSTRAINT TRIGGER note_commit AFTER INSERT OR UPDATE OR DELETE ON ${r.synced}
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "${names.syncedSchema}".note_commit();`);
    const commits = async () =>
      (
        await db.pool.query<{ lo: number; hi: number; rows: number }>(
          `SELECT min(id)::int AS lo, max(id)::int AS hi, count(*)::int AS rows FROM ${seen} GROUP BY xid ORDER BY min(n)`,
        )
      ).rows;
    const listener = await SyncListener.start(db.url, names);
    const worker = new SyncWorker(pool, {
      names,
      intervalMs: 3_600_000,
      retryDelayMs: 20,
      settings: { continuousWriters: 4 },
    });
    await worker.start();
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    try {
      // One source version of 200 new rows: four writers of 50 ids each, the highest committing first.
      await db.pool.query(`INSERT INTO ${r.source} (id, fare_amount) SELECT g, 1 FROM generate_series(201, 400) g`);
      await listener.syncedTo(await headVersion(db.pool, names));
      expect(await commits()).toEqual([
        { lo: 351, hi: 400, rows: 50 },
        { lo: 301, hi: 350, rows: 50 },
        { lo: 251, hi: 300, rows: 50 },
        { lo: 201, hi: 250, rows: 50 },
      ]);
      expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });

      // The writer of ids 1..100 blocks on row 5 and is killed; the other three commit.
      await db.pool.query(`TRUNCATE ${seen}`);
      await blocker.query('BEGIN');
      await blocker.query(`SELECT id FROM ${r.synced} WHERE id = 5 FOR UPDATE`);
      await db.pool.query(`UPDATE ${r.source} SET fare_amount = 2 WHERE id <= 400`);
      const pid = await eventually(
        async () => (await lockWaiters(db.pool, WRITERS_APP))[0] ?? null,
        (found) => found !== null,
        'a writer to block on row 5',
      );
      await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      await blocker.query('ROLLBACK');
      // The next pass finishes the batch from its plan: only the killed writer's range is written again.
      await listener.syncedTo(await headVersion(db.pool, names));
      expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });
      expect(await commits()).toEqual([
        { lo: 301, hi: 400, rows: 100 },
        { lo: 201, hi: 300, rows: 100 },
        { lo: 101, hi: 200, rows: 100 },
        { lo: 1, hi: 100, rows: 100 },
      ]);
      const { rows: plan } = await db.pool.query(`SELECT * FROM ${r.applyPlan} WHERE synced_schema = $1`, [
        names.syncedSchema,
      ]);
      expect(plan).toEqual([]);
    } finally {
      await blocker.end();
      await worker.stop();
      await listener.close();
      await pool.end();
    }
  });
});
