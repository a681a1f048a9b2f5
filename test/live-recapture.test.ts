import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient } from 'graphql-sse';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quoteIdent } from '../src/db/sql-identifiers.js';
import { captureTriggerNames, epochSql } from '../src/live/capture/install.js';
import { namingHorizonHolders, type TestDatabase } from './support/database.js';
import { createPrivateTestDatabase } from './support/private-cluster.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { expectedIds, insertTrips, startLiveGateway, TripStream, type LiveGateway } from './support/live.js';

const range = (first: number, last: number) => Array.from({ length: last - first + 1 }, (_, i) => first + i);

/** Streams in both graphql-sse modes, following after trips 21–23 were delivered to both. */
async function streamsPast23(gw: LiveGateway): Promise<TripStream[]> {
  const streams = [new TripStream(gw.client('distinct')), new TripStream(gw.client('single'))];
  await Promise.all(streams.map((stream) => stream.started()));
  await insertTrips(gw.database.pool, range(21, 23));
  for (const stream of streams) await stream.untilRows(3);
  return streams;
}

/** Trips 24–30 written while the capture is off: no record, and no notification. */
async function writeWhileCaptureOff(pool: pg.Pool): Promise<void> {
  await pool.query('ALTER TABLE "default".trips_synced DISABLE TRIGGER ALL');
  await insertTrips(pool, range(24, 30));
  await pool.query('ALTER TABLE "default".trips_synced ENABLE TRIGGER ALL');
}

/** Each stream ended after trips 21–23 with CURSOR_EXPIRED naming the lost capture, never past 24–30. */
async function expectCaptureLost(streams: readonly TripStream[]): Promise<void> {
  for (const stream of streams) {
    await stream.untilEnded();
    expect(stream.ids).toEqual(['21', '22', '23']);
    expect(stream.errors[0]?.extensions?.code).toBe('CURSOR_EXPIRED');
    expect(stream.errors[0]?.message).toContain('change capture was dropped or disabled for a while');
    expect(stream.errors[0]?.message).toContain('streamCursor');
  }
}

/** A live gateway whose table holds trips 1–20. */
async function startWithTrips(label: string): Promise<LiveGateway> {
  const gw = await startLiveGateway(label, {});
  await insertTrips(gw.database.pool, range(1, 20));
  return gw;
}

/** A connection that can hold a transaction with an id open: it holds every snapshot's xmin in the cluster. */
class XminHolder {
  private readonly client: pg.Client;
  constructor(url: string) {
    this.client = new pg.Client({ connectionString: url });
  }
  async connect(): Promise<void> {
    await this.client.connect();
  }
  async hold(): Promise<void> {
    await this.client.query('BEGIN');
    await this.client.query('SELECT pg_current_xact_id()');
  }
  async release(): Promise<void> {
    await this.client.query('ROLLBACK');
  }
  async end(): Promise<void> {
    await this.release().catch(() => undefined);
    await this.client.end();
  }
}

/**
 * Gateways that share a database share its change record. When the capture stood interrupted (its triggers
 * disabled for a while: writes went unrecorded) and another gateway put it back first, this gateway's next
 * read found it intact again: its open streams carried on past the unrecorded writes without a word.
 */
describe('the change capture put back by another gateway', () => {
  let a: LiveGateway;
  let b: TestGateway | undefined;
  beforeAll(async () => {
    // The default polls: with NOTIFY working, only a write's notification wakes a's feed.
    a = await startWithTrips('live_recapture');
  });
  afterAll(async () => {
    await b?.close();
    await a.close();
  });

  it("ends this gateway's open streams with CURSOR_EXPIRED saying why, and a re-read stream is exact", async () => {
    const streams = await streamsPast23(a);
    await writeWhileCaptureOff(a.database.pool);
    // Another gateway starting puts the capture back (new identity, horizon moved up) before a reads again.
    b = await startTestGateway('live_recapture_b', {}, { database: a.database });
    // A captured write wakes a's feed: it finds the capture intact again, put back since its position.
    await insertTrips(a.database.pool, range(31, 31));
    await expectCaptureLost(streams);

    const { body } = await a.query<{ trips: { streamCursor: string } }>(`{ trips(first: 1) { streamCursor } }`);
    const resumed = new TripStream(a.client('single'), { after: body.data!.trips.streamCursor });
    await resumed.started();
    await insertTrips(a.database.pool, range(32, 35));
    await resumed.untilRows(4);
    expect(resumed.ids).toEqual(await expectedIds(a.database.pool, 31));
    resumed.close();
  });
});

/**
 * The same, while a long transaction elsewhere in the cluster (a sync pipeline's batch, a report) holds the
 * snapshots' xmin back: the horizon the recapture moved up to is that xmin, which positions taken before the
 * recapture share, so a check against the horizon alone let their streams and cursors carry on.
 */
describe('the change capture put back by another gateway while a long transaction is open', () => {
  let a: LiveGateway;
  let b: TestGateway | undefined;
  let holder: XminHolder;
  beforeAll(async () => {
    a = await startWithTrips('live_recapture_held');
    holder = new XminHolder(a.database.url);
    await holder.connect();
  });
  afterAll(async () => {
    await holder.end();
    await b?.close();
    await a.close();
  });

  it('ends open streams and refuses earlier cursors with CURSOR_EXPIRED; a re-read stream is exact', async () => {
    // Held only from before the streams' positions to the recapture: the cluster is shared with other test
    // files, whose retention horizons it holds back too.
    await holder.hold();
    const streams = await streamsPast23(a);
    const { body: before } = await a.query<{ trips: { streamCursor: string } }>(`{ trips(first: 1) { streamCursor } }`);

    await writeWhileCaptureOff(a.database.pool);
    b = await startTestGateway('live_recapture_held_b', {}, { database: a.database });
    await holder.release();
    await insertTrips(a.database.pool, range(31, 31));
    await expectCaptureLost(streams);

    const stale = new TripStream(a.client('single'), { after: before.data!.trips.streamCursor });
    await stale.untilEnded();
    expect(stale.ids).toEqual([]);
    expect(stale.errors[0]?.extensions?.code).toBe('CURSOR_EXPIRED');

    const { body } = await a.query<{ trips: { streamCursor: string } }>(`{ trips(first: 1) { streamCursor } }`);
    const resumed = new TripStream(a.client('single'), { after: body.data!.trips.streamCursor });
    await resumed.started();
    await insertTrips(a.database.pool, range(32, 35));
    await resumed.untilRows(4);
    expect(resumed.ids).toEqual(await expectedIds(a.database.pool, 31));
    expect(resumed.errors).toEqual([]);
    resumed.close();
  });
});

/**
 * Gateways of the version before recaptured_xid (a rolling deploy) put the capture back recording its new
 * identity and horizon only. A long transaction holds the horizon, so only the identity tells.
 */
describe('the change capture put back by a gateway of the version before recaptured_xid', () => {
  let a: LiveGateway;
  let holder: XminHolder;
  beforeAll(async () => {
    a = await startWithTrips('live_recapture_old_peer');
    holder = new XminHolder(a.database.url);
    await holder.connect();
  });
  afterAll(async () => {
    await holder.end();
    await a.close();
  });

  it('ends open streams with CURSOR_EXPIRED', async () => {
    await holder.hold();
    const streams = await streamsPast23(a);
    await writeWhileCaptureOff(a.database.pool);
    // What that version's installCapture ran last.
    const identity = epochSql({ schema: 'default', table: 'trips_synced', gatewaySchema: 'lakebase_graphql' });
    await a.database.pool.query(
      `UPDATE lakebase_graphql.trip_change_capture
          SET horizon = CASE WHEN epoch IS DISTINCT FROM e.now
                             THEN greatest(horizon, pg_snapshot_xmin(pg_current_snapshot())) ELSE horizon END,
              epoch = e.now
         FROM (SELECT ${identity} AS now) e
        WHERE relid = '"default".trips_synced'::regclass`,
    );
    await holder.release();
    await insertTrips(a.database.pool, range(31, 31));
    await expectCaptureLost(streams);
  });
});

/**
 * The recovery the error names (re-read the trips page with streamCursor, subscribe after it) through the
 * response cache: when only the capture's trigger went away and came back, the table's signature stays the
 * same, and the re-read was answered from the cache with the refused cursor until the table was next written.
 */
describe('the documented recovery after the capture was put back, through the response cache', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('live_recapture_cache', { RESPONSE_CACHE: 'on' });
    await insertTrips(gw.database.pool, range(1, 5));
  });
  afterAll(() => gw.close());

  it('keeps ETags shared: the same in another gateway, and unchanged by a subscription', async () => {
    const query = '{ trips(first: 2) { streamCursor edges { node { tripId } } } }';
    const get = (gateway: TestGateway, headers: Record<string, string> = {}) =>
      gateway.app.gateway.fetch(`http://gateway.test/graphql?query=${encodeURIComponent(query)}`, {
        headers: { accept: 'application/graphql-response+json', ...headers },
      });
    const settled = async (gateway: TestGateway) => {
      await gateway.app.responseCache!.versions.fresh();
      await gateway.app.responseCache!.versions.fresh();
    };
    const first = await get(gw);
    const etag = first.headers.get('etag')!;
    await settled(gw);
    // A first subscription starts this gateway's feed, which reads the capture state.
    const stream = new TripStream(gw.client('distinct'));
    await stream.started();
    await settled(gw);
    expect((await get(gw, { 'if-none-match': etag })).status).toBe(304);
    stream.close();
    const other = await startTestGateway('live_recapture_cache_b', { RESPONSE_CACHE: 'on' }, { database: gw.database });
    try {
      const answer = await get(other);
      expect(answer.headers.get('etag')).toBe(etag);
      await settled(other);
      expect((await get(other, { 'if-none-match': etag })).status).toBe(304);
    } finally {
      await other.close();
    }
  });

  it('gives a new cursor, which resumes exactly, not the cached one', async () => {
    const page = async () =>
      (await gw.query<{ trips: { streamCursor: string } }>('{ trips(first: 1) { streamCursor } }')).body.data!.trips
        .streamCursor;
    const before = await page();
    const hits = gw.app.responseCache!.store.stats.hits;
    expect(await page()).toBe(before);
    expect(gw.app.responseCache!.store.stats.hits).toBe(hits + 1);

    // Nothing written meanwhile: a maintenance step that disabled the trigger and gave up.
    const updates = quoteIdent(captureTriggerNames('lakebase_graphql').updates);
    await gw.database.pool.query(`ALTER TABLE "default".trips_synced DISABLE TRIGGER ${updates}`);
    await gw.database.pool.query(`ALTER TABLE "default".trips_synced ENABLE TRIGGER ${updates}`);
    const refused = new TripStream(gw.client('distinct'), { after: before });
    await refused.untilEnded();
    expect(refused.errors[0]?.extensions?.code).toBe('CURSOR_EXPIRED');

    const after = await page();
    expect(after).not.toBe(before);
    const resumed = new TripStream(gw.client('single'), { after });
    await resumed.started();
    await insertTrips(gw.database.pool, range(6, 7));
    await resumed.untilRows(2);
    expect(resumed.ids).toEqual(['6', '7']);
    expect(resumed.errors).toEqual([]);
    resumed.close();
  });
});

describe('a feed that sat idle while the pruner moved the horizon past it', () => {
  let gw: LiveGateway;
  let database: TestDatabase;
  beforeAll(async () => {
    // Its own cluster: the horizon is the whole cluster's, and another test file's open write transaction on the
    // shared one can hold it back for longer than this waits.
    database = await createPrivateTestDatabase('live_idle_horizon');
    // A retention shorter than the poll in force (60 s with NOTIFY): the pruner passes the idle feed's position.
    gw = await startLiveGateway('live_idle_horizon', { LIVE_CHANGE_RETENTION_SECONDS: '1' }, { database });
  });
  afterAll(async () => {
    await gw.close();
    await database.drop();
  });

  it('carries on: with no write in between, nothing was lost', async () => {
    const stream = new TripStream(gw.client('distinct'));
    await stream.started();
    const { rows } = await gw.database.pool.query<{ xmin: string }>(
      'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin',
    );
    const startedAt = BigInt(rows[0]!.xmin);
    await expect
      .poll(
        async () => {
          const state = await gw.database.pool.query<{ horizon: string }>(
            'SELECT horizon::text AS horizon FROM lakebase_graphql.trip_change_capture',
          );
          return BigInt(state.rows[0]!.horizon) > startedAt;
        },
        { timeout: 20_000, interval: 250 },
      )
      .toBe(true);
    await insertTrips(gw.database.pool, range(1, 3));
    await stream.untilRows(3);
    expect(stream.ids).toEqual(['1', '2', '3']);
    expect(stream.errors).toEqual([]);
    stream.close();
  }, 40_000);
});

interface PausableGateway {
  child: ChildProcess;
  origin: string;
  /** SIGSTOP, at a moment when the gateway has no transaction open (see below). */
  pause(): Promise<void>;
  resume(): void;
  stop(): Promise<void>;
}

const PAUSED_APPLICATION = 'paused gateway';

/** A gateway in a process of its own, so that it can be paused (a long GC pause, a suspended VM). */
async function pausableGateway(database: TestDatabase): Promise<PausableGateway> {
  const child = fork(fileURLToPath(new URL('./support/gateway-child.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      DATABASE_URL: database.url,
      ACCESS_LOG: 'false',
      RESPONSE_CACHE: 'off',
      PGAPPNAME: PAUSED_APPLICATION,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const origin = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`gateway child exited with ${code}`)));
    child.once('message', (message) => resolve((message as { origin: string }).origin));
  });
  return {
    child,
    origin,
    async pause() {
      // Stopped inside a transaction (its rollup append, its retention run), the gateway would hold the cluster's
      // xmin horizon until it resumed, and no pruner could delete what these tests wait for. A real pause can land
      // there too, but then the prune waits for it, as Postgres promises; these tests are about the other case.
      for (let attempt = 1; ; attempt += 1) {
        child.kill('SIGSTOP');
        const { rows } = await database.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE application_name LIKE $1 AND (backend_xid IS NOT NULL OR state LIKE 'idle in transaction%')`,
          [`${PAUSED_APPLICATION}%`],
        );
        if (rows[0]!.n === 0) return;
        if (attempt === 200) throw new Error('the paused gateway was inside a transaction at each of 200 pauses');
        child.kill('SIGCONT');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    resume() {
      child.kill('SIGCONT');
    },
    async stop() {
      child.kill('SIGCONT');
      child.send('stop');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/**
 * A stream on the paused gateway while trips are inserted and `prune` deletes their changes: when the gateway
 * resumes, the stream must end with CURSOR_EXPIRED, not carry on without them.
 */
async function expectExpiredAfterPrune(
  paused: PausableGateway,
  database: TestDatabase,
  prune: () => Promise<void>,
): Promise<void> {
  const client = createClient({ url: `${paused.origin}/graphql`, retryAttempts: 0 });
  const stream = new TripStream(client);
  try {
    await stream.started();
    await paused.pause();
    await insertTrips(database.pool, range(1, 3));
    await namingHorizonHolders(database.pool, prune());
    paused.resume();
    await stream.untilEnded();
    expect(stream.ids).toEqual([]);
    expect(stream.errors[0]?.extensions?.code).toBe('CURSOR_EXPIRED');
    expect(stream.errors[0]?.message).toContain('fell behind the change record');
  } finally {
    paused.resume();
    stream.close();
    client.dispose();
  }
}

describe('a gateway paused while another one pruned changes its streams had not delivered', () => {
  let database: TestDatabase;
  let pruner: TestGateway;
  let paused: PausableGateway;
  beforeAll(async () => {
    database = await createPrivateTestDatabase('live_paused');
    // The other gateway prunes with a short retention, which the docs say is then the one in force for both.
    pruner = await startTestGateway('live_paused_pruner', { LIVE_CHANGE_RETENTION_SECONDS: '1' }, { database });
    paused = await pausableGateway(database);
  });
  afterAll(async () => {
    await paused.stop();
    await pruner.close();
    await database.drop();
  });

  it('ends its streams with CURSOR_EXPIRED instead of carrying on without those changes', async () => {
    // The other gateway's retention deletes their changes while this one cannot read them.
    await expectExpiredAfterPrune(paused, database, () =>
      expect
        .poll(
          async () =>
            (
              await database.pool.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM lakebase_graphql.trip_change_log WHERE 2 = ANY(ids)`,
              )
            ).rows[0]!.n,
          { timeout: 20_000, interval: 250 },
        )
        .toBe(0),
    );
  }, 60_000);
});

describe('a gateway paused while a gateway of an older version pruned (it did not record what it deleted)', () => {
  // During a rolling deploy the older version's retention deleted changes without raising pruned_seq, and this
  // version, resumed below the horizon, carried on past them without a word (an audit lost 300 of 301 rows).
  let database: TestDatabase;
  let installer: TestGateway;
  let paused: PausableGateway;
  beforeAll(async () => {
    database = await createPrivateTestDatabase('live_old_pruner');
    installer = await startTestGateway('live_old_pruner_installer', {}, { database });
    paused = await pausableGateway(database);
  });
  afterAll(async () => {
    await paused.stop();
    await installer.close();
    await database.drop();
  });

  const prunedSeq = async () =>
    Number(
      (
        await database.pool.query<{ n: string }>(
          `SELECT pruned_seq::text AS n FROM lakebase_graphql.trip_change_capture`,
        )
      ).rows[0]!.n,
    );

  it('is not pruning when the capture takes back a record of its own (an update that changes a key)', async () => {
    await insertTrips(database.pool, [900_001]);
    await database.pool.query(`UPDATE "default".trips_synced SET id = 900_002 WHERE id = 900_001`);
    expect(await prunedSeq()).toBe(0);
  });

  it('ends its streams with CURSOR_EXPIRED instead of carrying on without those changes', async () => {
    await expectExpiredAfterPrune(paused, database, async () => {
      // What the older version's retention ran (e4d177b, src/live/capture/retention.ts), until it deleted these
      // inserts' changes (a transaction running meanwhile, the other gateway's rollup append, holds the xmin).
      await expect
        .poll(
          async () => {
            await database.pool.query(`
              WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
                   gone AS (DELETE FROM lakebase_graphql.trip_change_log l USING horizon h
                             WHERE l.relid = '"default".trips_synced'::regclass AND l.xid < h.xmin)
              UPDATE lakebase_graphql.trip_change_capture c SET horizon = greatest(c.horizon, h.xmin) FROM horizon h
               WHERE c.relid = '"default".trips_synced'::regclass`);
            return (
              await database.pool.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM lakebase_graphql.trip_change_log WHERE 2 = ANY(ids)`,
              )
            ).rows[0]!.n;
          },
          // The cluster is this file's own (the horizon is the whole cluster's, and another file's transaction
          // on the shared one held it back for over 90 s); the in-process gateway's own transactions are short.
          { timeout: 90_000, interval: 250 },
        )
        .toBe(0);
      expect(await prunedSeq()).toBeGreaterThan(0);
    });
  }, 150_000);
});
