import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDatabricksConfig } from '../src/config/databricks.js';
import { ROLLUP_TABLE_NAMES } from '../src/db/tables.js';
import { createWorkspaceClient } from '../src/databricks/workspace-client.js';
import { CachedSyncStatus } from '../src/sync/cached-sync-status.js';
import { DatabricksSyncSource } from '../src/sync/databricks-source.js';
import type { SyncedTableInfo } from '../src/sync/source.js';
import { lockWaiters } from './support/database.js';
import { startFakeWorkspace, type FakeWorkspace } from './support/fake-workspace.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { startLiveGateway, type LiveGateway } from './support/live.js';
import { insertTrickyTrips } from './support/trips-fixture.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LATEST = '{ trips(first: 100, orderBy: [TRIP_ID_DESC]) { edges { node { tripId fareAmount } } } }';
const LATEST_SQL = `SELECT id::text AS "tripId", fare_amount AS "fareAmount"
                      FROM "default".trips_synced ORDER BY id DESC LIMIT 100`;

async function latestFromSql(pool: pg.Pool): Promise<unknown> {
  return { data: { trips: { edges: (await pool.query(LATEST_SQL)).rows.map((node) => ({ node })) } } };
}

async function get(gw: TestGateway, query: string, headers: Record<string, string> = {}): Promise<Response> {
  return await gw.app.gateway.fetch(`http://gateway.test/graphql?query=${encodeURIComponent(query)}`, {
    headers: { accept: 'application/graphql-response+json', ...headers },
  });
}

/** Waits until answers already sent have been stored or discarded (the store confirms the version after answering). */
async function settled(gw: TestGateway): Promise<void> {
  await gw.app.responseCache!.versions.fresh();
  await gw.app.responseCache!.versions.fresh();
}

describe('HTTP validation of GET queries', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('response_cache_etag', { ROLLUP_POLL_MS: '0', RESPONSE_CACHE: 'on' });
    await insertTrickyTrips(gw.database.pool, 200);
  });
  afterAll(() => gw.close());

  it('reports its mode on /health before any query was asked', async () => {
    await gw.app.initialised;
    let mode = 'off';
    // The startup read is in flight once the gateway is initialised; wait for it, not for a query.
    for (let attempt = 0; attempt < 200 && mode === 'off'; attempt += 1) {
      const health = (await (await gw.app.gateway.fetch('http://gateway.test/health')).json()) as {
        responseCache: { mode: string };
      };
      mode = health.responseCache.mode;
      if (mode === 'off') await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(mode).toBe('exact');
  });

  it('sends an ETag and answers If-None-Match with 304 until the table changes', async () => {
    const first = await get(gw, LATEST);
    expect(await first.json()).toEqual(await latestFromSql(gw.database.pool));
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+\.s\.[^"]+"$/);
    expect(first.headers.get('cache-control')).toBe('no-cache');
    await settled(gw);

    const again = await get(gw, LATEST, { 'if-none-match': etag! });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');

    // Another operation on the same table state has another tag.
    const other = await get(gw, '{ trips(first: 5) { totalCount } }');
    expect(other.headers.get('etag')).not.toBe(etag);

    await gw.database.pool.query(`UPDATE "default".trips_synced SET fare_amount = 1234 WHERE id = 600`);
    const changed = await get(gw, LATEST, { 'if-none-match': etag! });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toEqual(await latestFromSql(gw.database.pool));
    expect(changed.headers.get('etag')).not.toBe(etag);
  });

  it('answers a made-up or foreign If-None-Match with the full answer', async () => {
    for (const tag of ['"nonsense"', 'W/"x"', '"abc.s.def"', 'nonsense']) {
      const response = await get(gw, LATEST, { 'if-none-match': tag });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(await latestFromSql(gw.database.pool));
    }
  });

  it("reads If-None-Match as RFC 9110 does: weak tags, lists and * name the request's own answer", async () => {
    const etag = (await get(gw, LATEST)).headers.get('etag')!;
    await settled(gw);
    for (const field of [`W/${etag}`, `"other", ${etag}`, `W/"x",W/${etag}`, '*']) {
      const response = await get(gw, LATEST, { 'if-none-match': field });
      expect(response.status, field).toBe(304);
      // The 304 repeats what the 200 said about caching (RFC 9110 15.4.5).
      expect(response.headers.get('etag')).toBe(etag);
      expect(response.headers.get('cache-control')).toBe('no-cache');
    }
  });

  it("never answers 304 for another request's tag: another query, other variables, a POST", async () => {
    const byFare = 'query($n: Int!) { trips(first: $n, orderBy: [FARE_AMOUNT_DESC]) { edges { node { tripId } } } }';
    const twoUrl = `http://gateway.test/graphql?query=${encodeURIComponent(byFare)}&variables=${encodeURIComponent('{"n":2}')}`;
    const two = await gw.app.gateway.fetch(twoUrl, { headers: { accept: 'application/graphql-response+json' } });
    const etag = two.headers.get('etag')!;
    expect(etag).toMatch(/^"/);
    await settled(gw);
    // The plugin's own check answered 304 to any request naming any current entry.
    const other = await get(gw, '{ tripStats { count } }', { 'if-none-match': etag });
    expect(other.status).toBe(200);
    expect(await other.json()).toMatchObject({ data: { tripStats: { count: '200' } } });
    const three = await gw.app.gateway.fetch(twoUrl.replace('%22n%22%3A2', '%22n%22%3A3'), {
      headers: { accept: 'application/graphql-response+json', 'if-none-match': etag },
    });
    expect(three.status).toBe(200);
    expect(((await three.json()) as { data: { trips: { edges: unknown[] } } }).data.trips.edges).toHaveLength(3);
    // A POST is answered in full, even naming its own tag: only GET and HEAD are conditional here.
    const post = await gw.app.gateway.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'if-none-match': etag },
      body: JSON.stringify({ query: byFare, variables: { n: 2 } }),
    });
    expect(post.status).toBe(200);
    expect(((await post.json()) as { data: { trips: { edges: unknown[] } } }).data.trips.edges).toHaveLength(2);
  });

  it('gives a gateway with a setting that changes answers other ETags, and one with the same settings the same', async () => {
    // A browser or CDN revalidating after a restart with DEFAULT_PAGE_SIZE=5 got 304 for its page of 100 trips.
    const query = '{ trips { edges { node { tripId } } } }';
    const before = await get(gw, query);
    const same = await startTestGateway(
      'response_cache_same',
      { ROLLUP_POLL_MS: '0', RESPONSE_CACHE: 'on' },
      {
        database: gw.database,
      },
    );
    const smaller = await startTestGateway(
      'response_cache_page_size',
      { ROLLUP_POLL_MS: '0', RESPONSE_CACHE: 'on', DEFAULT_PAGE_SIZE: '5' },
      { database: gw.database },
    );
    try {
      const etag = before.headers.get('etag')!;
      expect((await get(same, query, { 'if-none-match': etag })).status).toBe(304);
      const changed = await get(smaller, query, { 'if-none-match': etag });
      expect(changed.status).toBe(200);
      expect(changed.headers.get('etag')).not.toBe(etag);
      expect(((await changed.json()) as { data: { trips: { edges: unknown[] } } }).data.trips.edges).toHaveLength(5);
    } finally {
      await Promise.all([same.close(), smaller.close()]);
    }
  });

  it('gives a gateway whose live changes use another mechanism other ETags (its stream cursors differ)', async () => {
    // A restart with LIVE_CHANGE_CAPTURE=off kept the table's version, and 304 kept the exact capture's cursor,
    // which that gateway refuses; the recovery the refusal names (re-read the page) got the same 304.
    const query = '{ trips(first: 2) { streamCursor edges { node { tripId } } } }';
    const exact = await get(gw, query);
    const keyed = await startTestGateway(
      'response_cache_mechanism',
      { ROLLUP_POLL_MS: '0', RESPONSE_CACHE: 'on', LIVE_CHANGE_CAPTURE: 'off' },
      { database: gw.database },
    );
    try {
      const answer = await get(keyed, query, { 'if-none-match': exact.headers.get('etag')! });
      expect(answer.status).toBe(200);
      const body = (await answer.json()) as { data: { trips: { streamCursor: string } } };
      const exactBody = (await exact.json()) as { data: { trips: { streamCursor: string } } };
      expect(body.data.trips.streamCursor).not.toBe(exactBody.data.trips.streamCursor);
    } finally {
      await keyed.close();
    }
  });

  it('keeps an answer closer than half the retention to its stream cursor expiry out of the cache', async () => {
    // A table left unwritten keeps its entry current; the stream cursor in it still expires with time.
    const shortLived = await startTestGateway(
      'response_cache_cursor_age',
      { ROLLUP_POLL_MS: '0', RESPONSE_CACHE: 'on', LIVE_CHANGE_RETENTION_SECONDS: '2' },
      { database: gw.database },
    );
    try {
      const query = '{ trips(first: 1) { streamCursor } }';
      const first = await get(shortLived, query);
      await settled(shortLived);
      const hits = shortLived.app.responseCache!.store.stats.hits;
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const later = await get(shortLived, query, { 'if-none-match': first.headers.get('etag')! });
      expect(later.status).toBe(200);
      expect(later.headers.get('etag')).not.toBe(first.headers.get('etag'));
      expect(shortLived.app.responseCache!.store.stats.hits).toBe(hits);
    } finally {
      await shortLived.close();
    }
  });
});

describe('the byte bound', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('response_cache_bytes', {
      ROLLUP_POLL_MS: '0',
      RESPONSE_CACHE: 'on',
      RESPONSE_CACHE_MAX_BYTES: '8000',
    });
    await insertTrickyTrips(gw.database.pool, 300);
  });
  afterAll(() => gw.close());

  it('evicts the least recently used entries to stay under it, and stores nothing larger than it', async () => {
    const store = gw.app.responseCache!.store;
    const page = (n: number) =>
      `{ trips(first: ${n}, orderBy: [TRIP_ID_ASC]) { edges { node { tripId fareAmount } } } }`;
    for (const n of [20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]) {
      expect((await gw.query(page(n))).body.errors).toBeUndefined();
      await settled(gw);
      expect(store.stats.bytes).toBeLessThanOrEqual(8_000);
    }
    expect(store.stats.evictions).toBeGreaterThan(0);
    // The most recent is there, the oldest went first.
    const hits = store.stats.hits;
    await gw.query(page(30));
    expect(store.stats.hits).toBe(hits + 1);
    await gw.query(page(20));
    expect(store.stats.hits).toBe(hits + 1);

    // 300 trips is more than the whole bound: answered, never stored.
    const entries = store.stats.entries;
    const big = await gw.query<{ trips: { edges: unknown[] } }>(page(300));
    expect(big.body.data!.trips.edges).toHaveLength(300);
    await settled(gw);
    await gw.query(page(300));
    expect(store.stats.hits).toBe(hits + 1);
    expect(store.stats.entries).toBeLessThanOrEqual(entries + 1);
  });
});

const CLIENT_ID = '7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d';
const CLIENT_SECRET = 'fake-secret';
const TABLE = 'main.default.trips_synced';
const ADMIN_TOKEN = 'abad1dea'.repeat(4);

function tableInfo(version: number): SyncedTableInfo {
  return {
    name: TABLE,
    spec: { source_table_full_name: 'main.default.trips', primary_key_columns: ['id'], scheduling_policy: 'TRIGGERED' },
    data_synchronization_status: {
      detailed_state: 'SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE',
      pipeline_id: 'p1',
      last_sync: {
        delta_table_sync_info: { delta_commit_version: version, delta_commit_timestamp: '2026-03-01T11:50:00Z' },
        sync_start_timestamp: '2026-03-01T11:55:00Z',
        sync_end_timestamp: '2026-03-01T11:58:00Z',
      },
    },
  };
}

describe('with a sync pipeline: caller scopes, syncStatus, and the source-version mode', () => {
  let fake: FakeWorkspace;
  let gw: TestGateway;
  beforeAll(async () => {
    fake = await startFakeWorkspace({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    fake.setSyncedTable(tableInfo(7));
    const databricks = loadDatabricksConfig({
      DATABRICKS_HOST: fake.url,
      DATABRICKS_CLIENT_ID: CLIENT_ID,
      DATABRICKS_CLIENT_SECRET: CLIENT_SECRET,
      DATABRICKS_APP_NAME: 'lakebase-graphql',
      GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN,
      SYNC_STATUS_CACHE_SECONDS: '0',
    });
    const workspace = createWorkspaceClient(databricks, { env: {}, retryTimeoutSeconds: 5 });
    const status = new CachedSyncStatus(new DatabricksSyncSource(workspace, TABLE), {
      ttlSeconds: 0,
      pollIntervalMs: 3_600_000,
      logger: { warn: () => {} },
    });
    gw = await startTestGateway(
      'response_cache_sync',
      { ROLLUP_POLL_MS: '0', RESPONSE_CACHE: 'on' },
      { sync: { status, admin: databricks.admin } },
    );
    await insertTrickyTrips(gw.database.pool, 150);
  });
  afterAll(async () => {
    await gw.close();
    await fake.close();
  });

  it('never lets two callers whose permissions differ share an entry', async () => {
    const store = gw.app.responseCache!.store;
    const admin = { 'x-admin-token': ADMIN_TOKEN };
    const reader = await get(gw, LATEST);
    await settled(gw);
    const hits = store.stats.hits;
    const asAdmin = await get(gw, LATEST, admin);
    // Same answer today, but computed and stored apart, and private to its caller.
    expect(store.stats.hits).toBe(hits);
    expect(asAdmin.headers.get('etag')).not.toBe(reader.headers.get('etag'));
    expect(asAdmin.headers.get('etag')).toMatch(/\.p\./);
    expect(asAdmin.headers.get('cache-control')).toBe('private, no-cache');
    await settled(gw);
    // Each is then served its own entry; a wrong token is a reader.
    await get(gw, LATEST, admin);
    await get(gw, LATEST, { 'x-admin-token': 'not-the-token' });
    expect(store.stats.hits).toBe(hits + 2);
    const readerAgain = await get(gw, LATEST, { 'x-admin-token': 'not-the-token' });
    expect(readerAgain.headers.get('etag')).toBe(reader.headers.get('etag'));
  });

  it("never answers one caller with another scope's tag, and says which headers the answer varies by", async () => {
    const viewer = '{ viewer { canRefresh } }';
    const admin = { 'x-admin-token': ADMIN_TOKEN };
    const reader = await get(gw, viewer);
    const asAdmin = await get(gw, viewer, admin);
    for (const response of [reader, asAdmin])
      expect(response.headers.get('vary')).toBe('Accept, Authorization, X-Admin-Token');
    await settled(gw);
    const adminWithReaderTag = await get(gw, viewer, { ...admin, 'if-none-match': reader.headers.get('etag')! });
    expect(adminWithReaderTag.status).toBe(200);
    expect(await adminWithReaderTag.json()).toEqual({ data: { viewer: { canRefresh: true } } });
    const readerWithAdminTag = await get(gw, viewer, { 'if-none-match': asAdmin.headers.get('etag')! });
    expect(readerWithAdminTag.status).toBe(200);
    expect(await readerWithAdminTag.json()).toEqual({ data: { viewer: { canRefresh: false } } });
    const adminOwnTag = await get(gw, viewer, { ...admin, 'if-none-match': asAdmin.headers.get('etag')! });
    expect(adminOwnTag.status).toBe(304);
    expect(adminOwnTag.headers.get('cache-control')).toBe('private, no-cache');
    expect(adminOwnTag.headers.get('vary')).toBe('Accept, Authorization, X-Admin-Token');
  });

  it('runs a mutation that names a current tag in If-None-Match', async () => {
    const etag = (await get(gw, LATEST)).headers.get('etag')!;
    await settled(gw);
    fake.pipelines.add('p1');
    const response = await gw.app.gateway.fetch('http://gateway.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-admin-token': ADMIN_TOKEN, 'if-none-match': etag },
      body: JSON.stringify({ query: 'mutation { refreshSyncedTable { updateId } }' }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data?: { refreshSyncedTable: { updateId: string } } };
    expect(body.data?.refreshSyncedTable.updateId).toMatch(/\S/);
  });

  it('serves uncached, not from the source version, while the change signature cannot be read', async () => {
    const cache = gw.app.responseCache!;
    const before = await gw.query(LATEST);
    expect(cache.versions.latest.mode).toBe('exact');
    await settled(gw);
    const signature = `lakebase_graphql.${ROLLUP_TABLE_NAMES.signature}`;
    await gw.database.pool.query(`ALTER FUNCTION ${signature}() RENAME TO signature_away`);
    try {
      await gw.database.pool.query(`UPDATE "default".trips_synced SET fare_amount = fare_amount + 1 WHERE id IN (
        SELECT id FROM "default".trips_synced ORDER BY id DESC LIMIT 3)`);
      const during = await gw.query(LATEST);
      expect(cache.versions.latest.mode).toBe('off');
      expect(during.body).toEqual(await latestFromSql(gw.database.pool));
      expect(during.body).not.toEqual(before.body);
    } finally {
      await gw.database.pool.query(
        `ALTER FUNCTION lakebase_graphql.signature_away() RENAME TO ${ROLLUP_TABLE_NAMES.signature}`,
      );
    }
    await gw.query(LATEST);
    expect(cache.versions.latest.mode).toBe('exact');
  });

  it('never caches syncStatus, alone or beside cached fields', async () => {
    for (const version of [8, 9]) {
      fake.setSyncedTable(tableInfo(version));
      for (const query of [
        '{ syncStatus { lastSync { sourceCommitVersion } } }',
        '{ trips(first: 1) { totalCount } syncStatus { lastSync { sourceCommitVersion } } }',
      ]) {
        const { body } = await gw.query<{ syncStatus: { lastSync: { sourceCommitVersion: string } } }>(query);
        expect(body.data!.syncStatus.lastSync.sourceCommitVersion).toBe(String(version));
      }
    }
  });

  it('never caches a mutation', async () => {
    const mutation = 'mutation { refreshSyncedTable { updateId } }';
    fake.pipelines.add('p1');
    const hits = gw.app.responseCache!.store.stats.hits;
    const first = await gw.query<{ refreshSyncedTable: { updateId: string } }>(
      mutation,
      {},
      { 'x-admin-token': ADMIN_TOKEN },
    );
    const second = await gw.query<{ refreshSyncedTable: { updateId: string } }>(
      mutation,
      {},
      { 'x-admin-token': ADMIN_TOKEN },
    );
    expect(first.body.errors).toBeUndefined();
    expect(second.body.data!.refreshSyncedTable.updateId).not.toBe(first.body.data!.refreshSyncedTable.updateId);
    expect(gw.app.responseCache!.store.stats.hits).toBe(hits);
  });

  it('keys on the source commit version when there is no change trigger (bounded staleness), and says so', async () => {
    const cache = gw.app.responseCache!;
    for (const kind of ['inserts', 'updates', 'deletes']) {
      await gw.database.pool.query(`DROP TRIGGER lakebase_graphql_${kind} ON "default".trips_synced`);
    }
    fake.setSyncedTable(tableInfo(20));
    const before = await gw.query(LATEST);
    expect(before.body).toEqual(await latestFromSql(gw.database.pool));
    expect(cache.versions.latest.mode).toBe('source-version');
    const ready = await gw.app.gateway.fetch('http://gateway.test/ready');
    expect(await ready.json()).toMatchObject({ responseCache: { mode: 'source-version' } });
    const health = await gw.app.gateway.fetch('http://gateway.test/health');
    expect(await health.json()).toMatchObject({ status: 'ok', responseCache: { mode: 'source-version' } });
    await settled(gw);

    // A write the pipeline has not reported yet: the documented staleness, the old answer.
    await gw.database.pool.query(`INSERT INTO "default".trips_synced (id, fare_amount) VALUES (90000, 5)`);
    expect((await gw.query(LATEST)).body).toEqual(before.body);
    // The pipeline reports the sync's commit version: the next request sees the row.
    fake.setSyncedTable(tableInfo(21));
    const after = await gw.query(LATEST);
    expect(after.body).toEqual(await latestFromSql(gw.database.pool));
    expect(after.body).not.toEqual(before.body);
  });

  it('answers uncached, without waiting for it, while the workspace API does not answer the sync status', async () => {
    // Runs after the test above: no change trigger, so the cache keys on the sync status.
    // Held until the finally below: a query that waited for it would never be answered (the test times out).
    const release = fake.hold('synced-table');
    try {
      const asked = fake.count('synced-table');
      await gw.database.pool.query(`INSERT INTO "default".trips_synced (id, fare_amount) VALUES (90001, 6)`);
      // Every query used to wait for the held call (the SDK retries a 429 for up to a minute), an invalid one too.
      const answer = await gw.query(LATEST);
      const invalid = await gw.query('{ trips(first: -1) { totalCount } }');
      expect(fake.count('synced-table')).toBeGreaterThan(asked);
      expect(answer.body).toEqual(await latestFromSql(gw.database.pool));
      expect(invalid.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(gw.app.responseCache!.versions.latest.mode).toBe('off');
    } finally {
      release();
    }
    // Once the API answers again, answers are cached again.
    await expect
      .poll(async () => (await gw.query(LATEST), gw.app.responseCache!.versions.latest.mode))
      .toBe('source-version');
  });
});

describe('an answer overtaken by a write while it was computed', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('response_cache_race', { ROLLUP_POLL_MS: '0', RESPONSE_CACHE: 'on' });
    await insertTrickyTrips(gw.database.pool, 100);
  });
  afterAll(() => gw.close());

  it('is not stored under the version read before it', async () => {
    const cache = gw.app.responseCache!;
    const writer = new pg.Client({ connectionString: gw.database.url });
    await writer.connect();
    try {
      // The version is read, then the page's statement waits on the writer's lock and
      // runs after its commit: the answer has the new row, the key the old version.
      await writer.query('BEGIN');
      await writer.query(`INSERT INTO "default".trips_synced (id, fare_amount) VALUES (70000, 9)`);
      await writer.query(`LOCK TABLE "default".trips_synced IN ACCESS EXCLUSIVE MODE`);
      const discarded = cache.store.stats.discarded;
      const answer = gw.query(LATEST);
      await expect.poll(async () => (await lockWaiters(gw.database.pool)).length).toBe(1);
      await writer.query('COMMIT');
      expect((await answer).body).toEqual(await latestFromSql(gw.database.pool));
      await settled(gw);
      expect(cache.store.stats.discarded).toBe(discarded + 1);
      expect(cache.store.stats.entries).toBe(0);
    } finally {
      await writer.end();
    }
  });
});

describe('two gateway processes on one database', () => {
  let gw: TestGateway;
  const children: { endpoint: string }[] = [];
  const spawned: { stop(): Promise<void> }[] = [];
  beforeAll(async () => {
    // Installs the gateway schema and triggers, then the two processes start on the same database. One after the
    // other (each compiles src/ with tsx from cold, slow on a busy machine), each kept for afterAll from its spawn.
    gw = await startTestGateway('response_cache_processes', { ROLLUP_POLL_MS: '0', RESPONSE_CACHE: 'on' });
    await insertTrickyTrips(gw.database.pool, 120);
    for (let i = 0; i < 2; i += 1) {
      const child = startProcess(gw.database.url);
      spawned.push(child);
      children.push({ endpoint: await child.ready });
    }
  });
  afterAll(async () => {
    await Promise.all(spawned.map((child) => child.stop()));
    await gw.close();
  });

  async function ask(endpoint: string): Promise<{ body: unknown; etag: string | null }> {
    const response = await fetch(`${endpoint}?query=${encodeURIComponent(LATEST)}`, {
      headers: { accept: 'application/json' },
    });
    return { body: await response.json(), etag: response.headers.get('etag') };
  }

  it('each sees a write on its very next request, with no message between them', async () => {
    const writes = [
      `INSERT INTO "default".trips_synced (id, fare_amount) VALUES (50000, 1)`,
      `UPDATE "default".trips_synced SET fare_amount = 77 WHERE id = 50000`,
      `DELETE FROM "default".trips_synced WHERE id = 50000`,
    ];
    for (const write of writes) {
      // Warm both caches: the second round is answered from each process' own cache.
      for (let round = 0; round < 2; round += 1) {
        for (const child of children)
          expect((await ask(child.endpoint)).body).toEqual(await latestFromSql(gw.database.pool));
      }
      const tags = await Promise.all(children.map(async (child) => (await ask(child.endpoint)).etag));
      for (const child of children) {
        const ready = (await (await fetch(child.endpoint.replace('/graphql', '/ready'))).json()) as {
          responseCache: { mode: string; hits: number };
        };
        expect(ready.responseCache.mode).toBe('exact');
        expect(ready.responseCache.hits).toBeGreaterThan(0);
        const health = (await (await fetch(child.endpoint.replace('/graphql', '/health'))).json()) as {
          responseCache: { mode: string };
        };
        expect(health.responseCache.mode).toBe('exact');
      }
      await gw.database.pool.query(write);
      for (const [i, child] of children.entries()) {
        const { body, etag } = await ask(child.endpoint);
        expect(body).toEqual(await latestFromSql(gw.database.pool));
        expect(etag).not.toBe(tags[i]);
      }
    }
  });
});

/** `src/main.ts` as its own process on a free port. */
function startProcess(databaseUrl: string): { stop(): Promise<void>; ready: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', ROLLUP_POLL_MS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => logs.push(line));
  const ready = new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}:\n${logs.join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      const address = /GraphQL endpoint ready at (http:\/\/[^\s"]+)/.exec(line)?.[1];
      if (address) resolve(address);
    });
  });
  return {
    ready,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('over graphql-sse', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('response_cache_sse', { ROLLUP_POLL_MS: '0', RESPONSE_CACHE: 'on' });
    await insertTrickyTrips(gw.database.pool, 50);
  });
  afterAll(() => gw.close());

  for (const transport of ['distinct', 'single'] as const) {
    it(`answers queries in ${transport}-connection mode, equal to SQL after a write`, async () => {
      const ask = async () => {
        const results: unknown[] = [];
        for await (const result of gw.client(transport).iterate({ query: LATEST })) results.push(result);
        return results;
      };
      expect(await ask()).toEqual([await latestFromSql(gw.database.pool)]);
      expect(await ask()).toEqual([await latestFromSql(gw.database.pool)]);
      await gw.database.pool.query(`UPDATE "default".trips_synced SET fare_amount = fare_amount + 1`);
      expect(await ask()).toEqual([await latestFromSql(gw.database.pool)]);
    });
  }
});
