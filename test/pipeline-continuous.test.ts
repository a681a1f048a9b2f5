/**
 * CONTINUOUS: source changes reach the synced table with no refresh call,
 * woken by the source's commit notifications or by the interval alone, and
 * the worker rides out dropped connections without losing or repeating rows.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relations, type PipelineNames } from '../src/dev/pipeline/names.js';
import { seedLocalPipeline } from '../src/dev/pipeline/seed.js';
import { insertNewTrips } from '../src/dev/pipeline/source-writes.js';
import { randomTrips } from '../src/dev/pipeline/random-trips.js';
import { SyncWorker, type SyncWorkerOptions } from '../src/dev/pipeline/worker.js';
import type { TestDatabase } from './support/database.js';
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
});
