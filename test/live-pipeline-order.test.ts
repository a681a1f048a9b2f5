/**
 * The cases reproduced with the local pipeline (issue 12), as a new
 * user would: `npm run data -- insert --id <below the maximum>`,
 * `npm run data -- insert-reversed` (two writers committing in the reverse
 * order of their ids), and a CONTINUOUS worker writing each batch over
 * several connections (the highest ids committing first). Real graphql-sse
 * subscribers must get every change exactly once.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/dev/cli.js';
import { relations } from '../src/dev/pipeline/names.js';
import { randomTrips, seededRandom } from '../src/dev/pipeline/random-trips.js';
import { seedLocalPipeline } from '../src/dev/pipeline/seed.js';
import { insertNewTrips, insertTrips } from '../src/dev/pipeline/source-writes.js';
import { SyncWorker } from '../src/dev/pipeline/worker.js';
import { CAPTURE_TABLES } from '../src/live/capture/tables.js';
import { headVersion, SyncListener, uniqueNames } from './support/pipeline.js';
import {
  applyChanges,
  ChangeStream,
  startLiveGateway,
  TripStream,
  type LiveGateway,
  type ReceivedChange,
} from './support/live.js';

const random = seededRandom(12);

describe('live changes over the local pipeline, whatever the key and the commit order', () => {
  let gw: LiveGateway;
  let workerPool: pg.Pool;
  let worker: SyncWorker;
  let listener: SyncListener;
  const names = uniqueNames('order');
  const r = relations(names);

  /** The synced table as the tripChanges view holds it. */
  const viewInSql = async (where = 'true') => {
    const { rows } = await gw.database.pool.query<{
      id: string;
      fare: number | null;
      zip: number | null;
      d: number | null;
    }>(
      `SELECT id::text AS id, fare_amount AS fare, pickup_zip AS zip, trip_distance AS d FROM ${r.synced} WHERE ${where}`,
    );
    return new Map(rows.map((row) => [row.id, JSON.stringify([row.fare, row.zip, row.d])]));
  };
  const synced = async () => listener.syncedTo(await headVersion(gw.database.pool, names));
  const run = async (...argv: string[]): Promise<{ code: number; out: string }> => {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void out.push(parts.join(' ')));
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const code = await runCli(argv);
    vi.restoreAllMocks();
    return { code, out: out.join('\n') };
  };

  beforeAll(async () => {
    gw = await startLiveGateway('live_pipeline_order', {
      PGSCHEMA: names.syncedSchema,
      TRIPS_TABLE: names.syncedTable,
      LIVE_POLL_INTERVAL_MS: '100',
    });
    await seedLocalPipeline(gw.database.pool, {
      names,
      policy: 'CONTINUOUS',
      loadSource: async (client) => {
        await insertTrips(client, names, randomTrips(1000n, 300, { random }));
      },
    });
    vi.stubEnv('DATABASE_URL', gw.database.url);
    vi.stubEnv('PGSCHEMA', names.syncedSchema);
    vi.stubEnv('LAKEBASE_DEV_SOURCE_SCHEMA', names.sourceSchema);
    vi.stubEnv('NODE_ENV', 'development');
    // The control connection and four writers.
    workerPool = new pg.Pool({ connectionString: gw.database.url, max: 5, application_name: 'live-order-worker' });
    workerPool.on('error', () => undefined);
    worker = new SyncWorker(workerPool, { names, intervalMs: 3_600_000, settings: { continuousWriters: 4 } });
    await worker.start();
    listener = await SyncListener.start(gw.database.url, names);
    // The synced table appeared after the gateway started: it installs the change capture on its next try.
    const deadline = Date.now() + 30_000;
    while (gw.app.live.mechanism !== 'trigger') {
      if (Date.now() > deadline) throw new Error(`live changes stayed ${gw.app.live.mechanism}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await listener.close();
    await worker.stop();
    await workerPool.end();
    await gw.close();
  });

  it('delivers an explicit id below the maximum and two writers committing in reverse id order, each once', async () => {
    const { body } = await gw.query<{ trips: { streamCursor: string } }>(`{ trips(first: 1) { streamCursor } }`);
    const from = body.data!.trips.streamCursor;
    const added = new TripStream(gw.client('distinct'), { after: from });
    const changes = new ChangeStream(gw.client('single'), { after: from });
    const view = await viewInSql();
    await Promise.all([added.started(), changes.started()]);

    expect(await run('insert', '--count', '2')).toMatchObject({
      code: 0,
      out: expect.stringMatching(/ids 1300\.\.1301/),
    });
    await synced();
    expect(await run('insert', '--id', '500', '--fare', '99')).toMatchObject({ code: 0 });
    await synced();
    expect(await run('insert-reversed', '--ids', '600,700')).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^inserted trip 700 \(committed first\), then trip 600/),
    });
    await synced();
    expect(await run('insert-reversed')).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^inserted trip 1303 \(committed first\), then trip 1302/),
    });
    await synced();
    // The source numbered B's commit (the higher id) before A's.
    const { rows: versions } = await gw.database.pool.query<{ id: string; version: string }>(
      `SELECT ch.id::text AS id, c.version::text AS version FROM ${r.changes} ch JOIN ${r.commits} c ON c.txid = ch.txid
        WHERE ch.id IN (600, 700) ORDER BY c.version`,
    );
    expect(versions.map((v) => v.id)).toEqual(['700', '600']);

    const want = ['1300', '1301', '500', '600', '700', '1302', '1303'];
    await added.until(() => want.every((id) => added.ids.includes(id)), 'every new trip');
    await changes.until(() => changes.changes.length >= want.length, 'every change');
    // Settled: another sync that brings nothing new, then nothing more arrived.
    expect(await run('sync')).toMatchObject({ code: 0 });
    expect([...added.ids].sort()).toEqual([...want].sort());
    expect(added.batches.flatMap((b) => b.trips).find((t) => t.tripId === '500')?.fareAmount).toBe(99);
    expect(applyChanges(view, changes.changes)).toEqual([]);
    expect(view).toEqual(await viewInSql());
    added.close();
    changes.close();
  });

  it('keeps every subscriber exactly in step while the worker writes each batch over four connections', async () => {
    const filters = [
      { filter: null, where: 'true' },
      { filter: { fareAmount: { gte: 20 } }, where: 'fare_amount >= 20' },
    ];
    const { body } = await gw.query<{ trips: { streamCursor: string } }>(`{ trips(first: 1) { streamCursor } }`);
    const streams = await Promise.all(
      filters.flatMap(({ filter, where }) =>
        (['distinct', 'single'] as const).map(async (mode) => ({
          view: await viewInSql(where),
          where,
          stream: new ChangeStream(gw.client(mode), { filter, after: body.data!.trips.streamCursor }),
        })),
      ),
    );
    await Promise.all(streams.map(({ stream }) => stream.started()));
    const xidsBefore = await writerTransactions();
    const syncsBefore = await incrementalSyncs();

    for (let round = 0; round < 8; round += 1) {
      await insertNewTrips(gw.database.pool, names, 40, (first, n) => randomTrips(first, n, { random }));
      await gw.database.pool.query(
        `UPDATE ${r.source} SET fare_amount = fare_amount + 7 WHERE id IN (SELECT id FROM ${r.source} ORDER BY random() LIMIT 15)`,
      );
      await gw.database.pool.query(
        `DELETE FROM ${r.source} WHERE id IN (SELECT id FROM ${r.source} ORDER BY random() LIMIT 5)`,
      );
      await synced();
    }
    // The batches were written by several transactions each (four writers), not one.
    expect((await writerTransactions()) - xidsBefore).toBeGreaterThan((await incrementalSyncs()) - syncsBefore);

    for (const { view, where, stream } of streams) {
      const want = await viewInSql(where);
      await stream.until(() => {
        const probe = new Map(view);
        applyChanges(probe, stream.changes);
        return probe.size === want.size && [...probe].every(([id, value]) => want.get(id) === value);
      }, `the view ${where} to match the table`);
      expect(applyChanges(view, stream.changes), where).toEqual([]);
      expect(stream.errors).toEqual([]);
      for (const batch of stream.batches) {
        expect(new Set(batch.changes.map((c: ReceivedChange) => c.tripId)).size).toBe(batch.changes.length);
      }
      stream.close();
    }
  });

  async function incrementalSyncs(): Promise<number> {
    const { rows } = await gw.database.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${r.history} WHERE synced_schema = $1 AND NOT snapshot AND rows_changed > 0`,
      [names.syncedSchema],
    );
    return rows[0]!.n;
  }

  /** Distinct transactions the change capture recorded writes of. */
  async function writerTransactions(): Promise<number> {
    const { rows } = await gw.database.pool.query<{ n: number }>(
      `SELECT count(DISTINCT xid)::int AS n FROM "${gw.config.database.gatewaySchema}".${CAPTURE_TABLES.log}`,
    );
    return rows[0]!.n;
  }
});
