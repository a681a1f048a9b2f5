/**
 * syncStatus, refreshSyncedTable and syncStatusChanged through the gateway's
 * HTTP handler, backed by the real SDK against the fake workspace: the same
 * tests for Lakebase Autoscaling (postgres API) and Provisioned (database API).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadDatabricksConfig } from '../src/config/databricks.js';
import { createWorkspaceClient } from '../src/databricks/workspace-client.js';
import { CachedSyncStatus } from '../src/sync/cached-sync-status.js';
import { DatabricksSyncSource } from '../src/sync/databricks-source.js';
import { startFakeWorkspace, type FakeWorkspace } from './support/fake-workspace.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { FLAVOURS } from './support/synced-table-flavours.js';
import { silentLogger } from '../src/logger.js';

const CLIENT_ID = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
const CLIENT_SECRET = 'fake-secret';
const TABLE = 'main.default.trips_synced';
const PIPELINE = 'a1b2c3d4-0000-4000-8000-000000000001';
const ADMIN_TOKEN = 'c0ffee00c0ffee00c0ffee00c0ffee00';

const SYNC_STATUS = `{ syncStatus { tableName sourceTableName schedulingPolicy state message pipelineId
  lastSync { sourceCommitVersion sourceCommitAt startedAt endedAt } progress { completion } stalenessSeconds checkedAt } }`;
const REFRESH = 'mutation { refreshSyncedTable(fullRefresh: true) { updateId status { state } } }';

describe.each(FLAVOURS)('$name', (flavour) => {
  let fake: FakeWorkspace;
  let gateway: TestGateway;
  let unconfigured: TestGateway;
  let status: CachedSyncStatus;
  let workspace: ReturnType<typeof createWorkspaceClient>;
  let databricks: ReturnType<typeof loadDatabricksConfig>;
  const tableInfo = (detailedState: string, version: number) =>
    flavour.build({
      table: TABLE,
      detailedState,
      commitVersion: version,
      pipelineId: PIPELINE,
      message: 'Table is up to date.',
    });

  beforeAll(async () => {
    fake = await startFakeWorkspace({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    databricks = loadDatabricksConfig({
      DATABRICKS_HOST: fake.url,
      DATABRICKS_CLIENT_ID: CLIENT_ID,
      DATABRICKS_CLIENT_SECRET: CLIENT_SECRET,
      DATABRICKS_APP_NAME: 'lakebase-graphql',
      GATEWAY_ADMINS: 'ada@example.com',
      GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN,
      // Every read reaches the fake, so each test sees the table as it set it.
      SYNC_STATUS_CACHE_SECONDS: '0',
    });
    workspace = createWorkspaceClient(databricks, { env: {}, retryTimeoutSeconds: 5 });
    status = new CachedSyncStatus(new DatabricksSyncSource(workspace, TABLE), {
      ttlSeconds: databricks.syncStatusCacheSeconds,
      pollIntervalMs: 3_600_000,
      logger: silentLogger,
    });
    gateway = await startTestGateway(`sync_graphql_${flavour.api}`, {}, { sync: { status, admin: databricks.admin } });
    unconfigured = await startTestGateway(`sync_unconfigured_${flavour.api}`);
  });
  afterAll(async () => {
    await gateway.close();
    await unconfigured.close();
    await fake.close();
  });
  afterEach(() => {
    fake.reset();
    fake.pipelines.clear();
    fake.deleteSyncedTable(TABLE);
  });

  describe('syncStatus', () => {
    it('answers in the contract shape', async () => {
      fake.setSyncedTable(tableInfo('SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE', 42));
      const { body } = await gateway.query<{ syncStatus: Record<string, unknown> }>(SYNC_STATUS);
      expect(body.errors).toBeUndefined();
      expect(body.data?.syncStatus).toMatchObject({
        tableName: TABLE,
        sourceTableName: 'main.default.trips',
        schedulingPolicy: 'TRIGGERED',
        state: 'ONLINE_NO_PENDING_UPDATE',
        message: 'Table is up to date.',
        pipelineId: PIPELINE,
        lastSync: {
          sourceCommitVersion: '42',
          sourceCommitAt: '2026-03-01T11:50:00.000Z',
          startedAt: '2026-03-01T11:55:00.000Z',
          endedAt: '2026-03-01T11:58:00.000Z',
        },
        progress: null,
      });
      expect(typeof body.data?.syncStatus.stalenessSeconds).toBe('number');
      expect(body.data?.syncStatus.checkedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    });

    it('counts the staleness at the answer, not at the status read the gateway reuses', async () => {
      fake.setSyncedTable(tableInfo('SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE', 42));
      const cached = new CachedSyncStatus(new DatabricksSyncSource(workspace, TABLE), {
        ttlSeconds: 60,
        logger: silentLogger,
      });
      const reused = await startTestGateway(
        `sync_graphql_cached_${flavour.api}`,
        {},
        { sync: { status: cached, admin: databricks.admin } },
      );
      try {
        const ask = async () =>
          (await reused.query<{ syncStatus: { stalenessSeconds: number; checkedAt: string } }>(SYNC_STATUS)).body.data!
            .syncStatus;
        const first = await ask();
        await new Promise((resolve) => setTimeout(resolve, 1_200));
        const later = await ask();
        // One read of the API, two answers: the status (and its read time) is the same, the staleness is not.
        expect(fake.count(flavour.route)).toBe(1);
        expect(later.checkedAt).toBe(first.checkedAt);
        expect(later.stalenessSeconds - first.stalenessSeconds).toBeGreaterThanOrEqual(1.1);
      } finally {
        await reused.close();
      }
    });

    it('reports a pipeline outage as SYNC_UNAVAILABLE without workspace details', async () => {
      fake.setSyncedTable(tableInfo('SYNCED_TABLE_ONLINE', 1));
      fake.failNext(flavour.route, { status: 503 });
      const { body } = await gateway.query(SYNC_STATUS);
      expect(body.data).toBeNull();
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'SYNC_UNAVAILABLE' });
      expect(body.errors?.[0]?.message).not.toContain(fake.url);
    });

    it.each([401, 403, 404, 500, 502, 503])(
      '%i from the API is SYNC_UNAVAILABLE, without workspace details',
      async (code) => {
        fake.setSyncedTable(tableInfo('SYNCED_TABLE_ONLINE', 1));
        fake.failNext(flavour.route, { status: code, message: `secret detail ${fake.url}` });
        const { body } = await gateway.query(SYNC_STATUS);
        expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'SYNC_UNAVAILABLE' });
        expect(JSON.stringify(body)).not.toContain('secret detail');
      },
    );

    it('429 once is retried and answers', async () => {
      fake.setSyncedTable(tableInfo('SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE', 7));
      fake.failNext(flavour.route, { status: 429 });
      const { body } = await gateway.query<{ syncStatus: { state: string } }>('{ syncStatus { state } }');
      expect(body.data?.syncStatus.state).toBe('ONLINE_NO_PENDING_UPDATE');
      expect(fake.count(flavour.route)).toBe(2);
    });

    it('says so when nothing is configured', async () => {
      const { body } = await unconfigured.query('{ syncStatus { state } }');
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'SYNC_NOT_CONFIGURED' });
    });
  });

  describe('refreshSyncedTable', () => {
    it('is FORBIDDEN without admin identity or token, and starts nothing', async () => {
      fake.setSyncedTable(tableInfo('SYNCED_TABLE_ONLINE', 1));
      fake.pipelines.add(PIPELINE);
      const { body } = await gateway.query(REFRESH, {}, { 'X-Forwarded-Email': 'bob@example.com' });
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
      expect(body.errors?.[0]?.message).toContain('GATEWAY_ADMINS');
      expect(fake.updates).toEqual([]);
    });

    it.each([
      ['an admin identity', { 'X-Forwarded-Email': 'ada@example.com' }],
      ['the admin token', { 'X-Admin-Token': ADMIN_TOKEN }],
    ])('starts a full refresh for %s and returns the update id', async (_who, headers) => {
      fake.setSyncedTable(tableInfo('SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE', 1));
      fake.pipelines.add(PIPELINE);
      const { body } = await gateway.query<{ refreshSyncedTable: { updateId: string; status: { state: string } } }>(
        REFRESH,
        {},
        headers,
      );
      expect(body.errors).toBeUndefined();
      expect(fake.updates).toHaveLength(1);
      expect(fake.updates[0]).toMatchObject({ pipelineId: PIPELINE, fullRefresh: true });
      expect(body.data?.refreshSyncedTable).toEqual({
        updateId: fake.updates[0]?.updateId,
        status: { state: 'ONLINE_TRIGGERED_UPDATE' },
      });
    });

    it('an update already running is SYNC_UPDATE_RUNNING', async () => {
      fake.setSyncedTable(tableInfo('SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE', 1));
      fake.pipelines.add(PIPELINE);
      fake.failNext('pipeline-update', { status: 409 });
      const { body } = await gateway.query(REFRESH, {}, { 'X-Admin-Token': ADMIN_TOKEN });
      expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'SYNC_UPDATE_RUNNING' });
    });
  });

  describe('viewer.canRefresh', () => {
    const VIEWER = '{ viewer { canRefresh } }';
    it.each([
      ['nobody in particular', {}, false],
      ['a user not in GATEWAY_ADMINS', { 'X-Forwarded-Email': 'bob@example.com' }, false],
      ['a wrong token', { 'X-Admin-Token': 'not-the-token' }, false],
      ['an admin identity', { 'X-Forwarded-Email': 'ada@example.com' }, true],
      ['the admin token', { Authorization: `Bearer ${ADMIN_TOKEN}` }, true],
    ])('tells %s the refreshSyncedTable decision: %s', async (_who, headers, expected) => {
      const { body } = await gateway.query<{ viewer: { canRefresh: boolean } }>(VIEWER, {}, headers);
      expect(body).toEqual({ data: { viewer: { canRefresh: expected } } });
    });

    it('is false when no sync pipeline is configured', async () => {
      const { body } = await unconfigured.query(VIEWER, {}, { 'X-Admin-Token': ADMIN_TOKEN });
      expect(body).toEqual({ data: { viewer: { canRefresh: false } } });
    });
  });

  describe('syncStatusChanged', () => {
    it('streams the status over SSE, then each change; closing the stream stops polling', async () => {
      fake.setSyncedTable(tableInfo('SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE', 42));
      const response = await gateway.app.gateway.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({
          query: 'subscription { syncStatusChanged { state lastSync { sourceCommitVersion } } }',
        }),
      });
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const events = sseEvents(response.body!);

      expect(await events.next()).toMatchObject({
        value: {
          data: { syncStatusChanged: { state: 'ONLINE_NO_PENDING_UPDATE', lastSync: { sourceCommitVersion: '42' } } },
        },
      });
      expect(status.active).toBe(true);

      fake.setSyncedTable(tableInfo('SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE', 43));
      await status.poll();
      expect(await events.next()).toMatchObject({
        value: {
          data: { syncStatusChanged: { state: 'ONLINE_TRIGGERED_UPDATE', lastSync: { sourceCommitVersion: '43' } } },
        },
      });

      await events.return(undefined);
      await expect.poll(() => status.active).toBe(false);
    });
  });
});

/** Parses `event: next` / `data: {...}` frames of a GraphQL over SSE response. */
async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const boundary = buffer.indexOf('\n\n');
      if (boundary >= 0) {
        const frame = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event === 'complete') return;
        if (event === 'next' && data !== undefined) yield JSON.parse(data) as unknown;
        continue;
      }
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel();
  }
}
