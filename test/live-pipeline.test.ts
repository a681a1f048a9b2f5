/**
 * tripsAdded fed by the local sync pipeline (src/dev/pipeline), as in local
 * development: trips are inserted into the emulated Unity Catalog source, the
 * worker syncs them into the synced table, and the gateway streams them. The
 * feed's poll is an hour, so only the pipeline's wake-ups can deliver.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineNames } from '../src/dev/pipeline/names.js';
import { LocalSyncSource } from '../src/dev/pipeline/local-sync-source.js';
import { randomTrips, seededRandom } from '../src/dev/pipeline/random-trips.js';
import { seedLocalPipeline } from '../src/dev/pipeline/seed.js';
import { insertNewTrips, insertTrips } from '../src/dev/pipeline/source-writes.js';
import { SyncWorker } from '../src/dev/pipeline/worker.js';
import { createClient } from 'graphql-sse';
import { createWorkerPool, headVersion, SyncListener, uniqueNames } from './support/pipeline.js';
import { startLiveGateway, TripStream, type LiveGateway } from './support/live.js';
import { startPipelineGateway } from './support/pipeline-gateway.js';

const NO_POLL = { LIVE_POLL_INTERVAL_MS: '3600000' };
const random = seededRandom(5);

function gatewayEnv(names: PipelineNames, env: Record<string, string>): Record<string, string> {
  return { ...NO_POLL, PGSCHEMA: names.syncedSchema, TRIPS_TABLE: names.syncedTable, ...env };
}

async function syncedIdsAfter(pool: pg.Pool, names: PipelineNames, after: bigint, where = 'true'): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT t.id::text AS id FROM "${names.syncedSchema}"."${names.syncedTable}" AS t
      WHERE t.id > $1 AND (${where}) ORDER BY t.id`,
    [String(after)],
  );
  return rows.map((row) => row.id);
}

/**
 * Every row once. In id order only within a batch: the CONTINUOUS worker writes a batch over several
 * connections that commit the highest ids first (docs/local-pipeline.md), so a later batch may bring lower ids.
 */
function expectEachOnce(received: readonly string[], want: readonly string[]): void {
  expect(new Set(received).size).toBe(received.length);
  expect([...received].sort()).toEqual([...want].sort());
}

async function newestSyncedId(pool: pg.Pool, names: PipelineNames): Promise<bigint> {
  const { rows } = await pool.query<{ id: string | null }>(
    `SELECT max(id)::text AS id FROM "${names.syncedSchema}"."${names.syncedTable}"`,
  );
  return BigInt(rows[0]?.id ?? 0);
}

describe('tripsAdded over the local sync pipeline', () => {
  let gw: LiveGateway;
  let workerPool: pg.Pool;
  const names = uniqueNames('live');
  const insert = (count: number) =>
    insertNewTrips(gw.database.pool, names, count, (first, n) => randomTrips(first, n, { random }));

  beforeAll(async () => {
    gw = await startLiveGateway('live_pipeline', gatewayEnv(names, {}));
    await seedLocalPipeline(gw.database.pool, {
      names,
      policy: 'CONTINUOUS',
      loadSource: async (client) => {
        await insertTrips(client, names, randomTrips(1n, 300, { random }));
      },
    });
    workerPool = createWorkerPool(gw.database.url, 'live-pipeline-worker');
  });
  afterAll(async () => {
    await workerPool.end();
    await gw.close();
  });

  it('streams each sync, woken by its NOTIFY, and a snapshot refresh replays nothing', async () => {
    const worker = new SyncWorker(workerPool, { names, intervalMs: 3_600_000, wakeOnSourceCommit: true });
    await worker.start();
    const listener = await SyncListener.start(gw.database.url, names);
    try {
      const start = await newestSyncedId(gw.database.pool, names);
      const cheap = { fareAmount: { lt: 12 } };
      const streams = [new TripStream(gw.client('distinct')), new TripStream(gw.client('single'), { filter: cheap })];
      await Promise.all(streams.map((stream) => stream.started()));

      for (let sync = 0; sync < 4; sync += 1) {
        await insert(25);
        await listener.syncedTo(await headVersion(gw.database.pool, names));
      }
      // A full refresh rewrites the whole synced table (same ids) in one transaction.
      await new LocalSyncSource(gw.database.pool, { names, runUpdatesWithoutWorker: false }).startUpdate({
        fullRefresh: true,
      });
      await listener.next((n) => n.event === 'sync' && n.snapshot);
      await insert(25);
      await listener.syncedTo(await headVersion(gw.database.pool, names));

      const wants = [
        await syncedIdsAfter(gw.database.pool, names, start),
        await syncedIdsAfter(gw.database.pool, names, start, 'fare_amount < 12'),
      ];
      expect(wants[0]).toHaveLength(125);
      for (const [index, stream] of streams.entries()) {
        await stream.untilRows(wants[index]!.length);
        expectEachOnce(stream.ids, wants[index]!);
        stream.close();
      }
    } finally {
      await listener.close();
      await worker.stop();
    }
  });

  it('wakes on a sync status change where nothing NOTIFYs (as on Lakebase)', async () => {
    // A second gateway on the same database, LISTEN off, following the emulated pipeline's status.
    const second = await startPipelineGateway({
      url: gw.database.url,
      pool: gw.database.pool,
      names,
      env: { ...NO_POLL, LIVE_NOTIFY_CHANNEL: 'off' },
      status: { ttlSeconds: 0, pollIntervalMs: 100 },
    });
    const client = createClient({ url: second.url, retryAttempts: 0 });
    try {
      const start = await newestSyncedId(gw.database.pool, names);
      const stream = new TripStream(client);
      await stream.started();
      await insert(30);
      await second.status.refresh({ fullRefresh: false }); // the update runs in the background
      await second.source.settled();
      const want = await syncedIdsAfter(gw.database.pool, names, start);
      expect(want).toHaveLength(30);
      await stream.untilRows(want.length);
      expectEachOnce(stream.ids, want);
      stream.close();
    } finally {
      client.dispose();
      await second.close();
    }
  });
});
