/**
 * Sync status and refresh through the real SDK against the fake workspace:
 * DatabricksSyncSource, the status cache, and the change subscription, once
 * for Lakebase Autoscaling (postgres API) and once for Provisioned (database API).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadDatabricksConfig } from '../src/config/databricks.js';
import { createWorkspaceClient } from '../src/databricks/workspace-client.js';
import { CachedSyncStatus } from '../src/sync/cached-sync-status.js';
import { DatabricksSyncSource, SyncApiError } from '../src/sync/databricks-source.js';
import { detailedStateOf } from '../src/sync/source.js';
import { startFakeWorkspace, type FakeWorkspace } from './support/fake-workspace.js';
import { FLAVOURS, otherFlavour } from './support/synced-table-flavours.js';
import { silentLogger } from '../src/logger.js';

const CLIENT_ID = '3a9e1f70-22c4-4d8e-b1a5-9f0e6d2c4b18';
const CLIENT_SECRET = 'fake-secret';
const TABLE = 'main.default.trips_synced';
const PIPELINE = '0f3c9f0e-1a2b-4c5d-8e9f-001122334455';

let fake: FakeWorkspace;
let clock = Date.parse('2026-03-01T12:00:00Z');
const now = () => new Date(clock);

beforeAll(async () => {
  fake = await startFakeWorkspace({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
});
afterAll(() => fake.close());

async function syncApiError(promise: Promise<unknown>): Promise<SyncApiError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SyncApiError);
  return error as SyncApiError;
}

describe.each(FLAVOURS)('$name', (flavour) => {
  const tableInfo = (detailedState: string, commitVersion = 42, pipelineId: string | null = PIPELINE) =>
    flavour.build({ table: TABLE, detailedState, commitVersion, pipelineId });
  const log: string[] = [];

  function source(tableName = TABLE, api = flavour.api) {
    const config = loadDatabricksConfig({
      DATABRICKS_HOST: fake.url,
      DATABRICKS_CLIENT_ID: CLIENT_ID,
      DATABRICKS_CLIENT_SECRET: CLIENT_SECRET,
    });
    return new DatabricksSyncSource(createWorkspaceClient(config, { env: {}, retryTimeoutSeconds: 5 }), tableName, {
      api,
      logger: { info: (message) => log.push(message) },
    });
  }

  beforeEach(() => {
    clock = Date.parse('2026-03-01T12:00:00Z');
    fake.setSyncedTable(tableInfo('SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE'));
    fake.pipelines.add(PIPELINE);
  });
  afterEach(() => {
    fake.reset();
    fake.pipelines.clear();
    fake.deleteSyncedTable(TABLE);
    log.length = 0;
  });

  describe('DatabricksSyncSource', () => {
    it('reads the synced table status from its API', async () => {
      const info = await source().getSyncedTable();
      expect(detailedStateOf(info)).toBe('SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE');
      expect(fake.requests.at(-1)?.path).toBe(flavour.path(TABLE));
      expect(fake.count(otherFlavour(flavour).route)).toBe(0);
      expect(log).toEqual([]);
    });

    it('configured for the other API: its 404 makes the source try this one once, log it, and stay with it', async () => {
      const sync = source(TABLE, otherFlavour(flavour).api);
      expect(detailedStateOf(await sync.getSyncedTable())).toBe('SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE');
      expect(
        fake.requests
          .filter((request) => request.route !== 'oauth-token' && request.route !== 'oidc-discovery')
          .map((r) => r.path),
      ).toEqual([otherFlavour(flavour).path(TABLE), flavour.path(TABLE)]);
      expect(log).toEqual([
        `synced table answered by the ${flavour.api} API (the ${otherFlavour(flavour).api} API answered 404); using it from now on`,
      ]);
      await sync.getSyncedTable();
      expect(fake.count(otherFlavour(flavour).route)).toBe(1);
      expect(fake.count(flavour.route)).toBe(2);
      expect(sync.api).toBe(flavour.api);
    });

    it('starts a pipeline update of the table’s pipeline (Pipelines API) and returns its id', async () => {
      const { updateId } = await source().startUpdate({ fullRefresh: true });
      expect(fake.updates).toEqual([{ pipelineId: PIPELINE, updateId, fullRefresh: true, cause: 'API_CALL' }]);
      expect(updateId).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('re-reads the pipeline once when the remembered one is gone (table recreated)', async () => {
      const sync = source();
      await sync.getSyncedTable();
      fake.pipelines.clear();
      fake.pipelines.add('new-pipeline');
      fake.setSyncedTable(tableInfo('SYNCED_TABLE_ONLINE', 1, 'new-pipeline'));
      await sync.startUpdate({ fullRefresh: false });
      expect(fake.updates.map((update) => update.pipelineId)).toEqual(['new-pipeline']);
    });

    it('an unknown table: both APIs asked, 404 pointing at SYNCED_TABLE_NAME', async () => {
      const error = await syncApiError(source('main.default.nope').getSyncedTable());
      expect(error).toMatchObject({ step: 'synced-table', status: 404 });
      expect(error.message).toContain('SYNCED_TABLE_NAME');
      expect(fake.count('postgres-synced-table')).toBe(1);
      expect(fake.count('synced-table')).toBe(1);
      expect(log).toEqual([]);
    });

    it('401 from the API after a successful login', async () => {
      fake.failNext(flavour.route, { status: 401 });
      const error = await syncApiError(source().getSyncedTable());
      expect(error).toMatchObject({ step: 'synced-table', status: 401 });
      expect(error.message).toContain('rejected the OAuth token');
    });

    it('403 on the table names the grant; 403 on the pipeline names the pipeline permission', async () => {
      const denial = `User ${CLIENT_ID} does not have SELECT on Table '${TABLE}'.`;
      fake.failNext(flavour.route, { status: 403, errorCode: 'PERMISSION_DENIED', message: denial });
      const read = await syncApiError(source().getSyncedTable());
      expect(read.message).toContain(`needs SELECT on ${TABLE}`);
      // The workspace's own words, not the raw body: real errors carry a RequestInfo detail the SDK cannot parse.
      expect(read.message).toContain(`(PERMISSION_DENIED: ${denial})`);
      expect(read.message).not.toContain('Response from server');
      expect(read.message).toContain(CLIENT_ID);
      // A 403 is not a reason to ask the other API.
      expect(fake.count(otherFlavour(flavour).route)).toBe(0);

      fake.failNext('pipeline-update', { status: 403 });
      const refresh = await syncApiError(source().startUpdate({ fullRefresh: false }));
      expect(refresh).toMatchObject({ step: 'pipeline-update', status: 403 });
      expect(refresh.message).toContain(`CAN_RUN or CAN_MANAGE on pipeline ${PIPELINE}`);
    });

    it('409 on the pipeline says an update is already running', async () => {
      fake.failNext('pipeline-update', { status: 409 });
      const error = await syncApiError(source().startUpdate({ fullRefresh: false }));
      expect(error.message).toContain('already running');
    });

    it('429 once is retried by the SDK; 429 until the retry timeout is reported as rate limiting', async () => {
      fake.failNext(flavour.route, { status: 429 });
      expect(detailedStateOf(await source().getSyncedTable())).toBe('SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE');
      expect(fake.count(flavour.route)).toBe(2);

      fake.failNext(flavour.route, { status: 429 }, 20);
      const config = loadDatabricksConfig({
        DATABRICKS_HOST: fake.url,
        DATABRICKS_CLIENT_ID: CLIENT_ID,
        DATABRICKS_CLIENT_SECRET: CLIENT_SECRET,
      });
      const impatient = new DatabricksSyncSource(
        createWorkspaceClient(config, { env: {}, retryTimeoutSeconds: 1 }),
        TABLE,
        { api: flavour.api },
      );
      const error = await syncApiError(impatient.getSyncedTable());
      expect(error.message).toMatch(/429/);
    });

    it('a table without a pipeline yet cannot be refreshed, and says why', async () => {
      fake.setSyncedTable(tableInfo('SYNCED_TABLE_PROVISIONING_PIPELINE_RESOURCES', 0, null));
      const error = await syncApiError(source().startUpdate({ fullRefresh: false }));
      expect(error.message).toContain('has no sync pipeline yet');
      expect(error.message).toContain('SYNCED_TABLE_PROVISIONING_PIPELINE_RESOURCES');
      expect(fake.count('pipeline-update')).toBe(0);
    });

    it('workspace authentication failures are their own step', async () => {
      fake.failNext('oauth-token', { status: 401 });
      const error = await syncApiError(source().getSyncedTable());
      expect(error.step).toBe('workspace-auth');
    });

    it.each([500, 503])('%i is reported as transient, and the other API is not asked', async (status) => {
      fake.failNext(flavour.route, { status });
      const error = await syncApiError(source().getSyncedTable());
      expect(error.status).toBe(status);
      expect(error.message).toContain('transient');
      expect(fake.count(otherFlavour(flavour).route)).toBe(0);
    });
  });

  describe('CachedSyncStatus', () => {
    function cached(ttlSeconds = 5) {
      return new CachedSyncStatus(source(), { ttlSeconds, now, pollIntervalMs: 3_600_000, logger: silentLogger });
    }

    it('many clients within the TTL cost one API call', async () => {
      const status = cached();
      const results = await Promise.all(Array.from({ length: 25 }, () => status.get()));
      await status.get();
      expect(fake.count(flavour.route)).toBe(1);
      expect(new Set(results).size).toBe(1);
      expect(results[0]).toMatchObject({ state: 'ONLINE_NO_PENDING_UPDATE', stalenessSeconds: 120 });

      clock += 5_000;
      const later = await status.get();
      expect(fake.count(flavour.route)).toBe(2);
      expect(later.checkedAt.getTime()).toBe(clock);
      expect(later.stalenessSeconds).toBe(125);
    });

    it('caches a failure for the TTL too, then recovers', async () => {
      const status = cached();
      fake.failNext(flavour.route, { status: 503 });
      await expect(status.get()).rejects.toBeInstanceOf(SyncApiError);
      await expect(status.get()).rejects.toBeInstanceOf(SyncApiError);
      expect(fake.count(flavour.route)).toBe(1);
      clock += 5_000;
      await expect(status.get()).resolves.toMatchObject({ state: 'ONLINE_NO_PENDING_UPDATE' });
    });

    it('refresh starts an update and returns the status read after it', async () => {
      const status = cached();
      await status.get();
      fake.setSyncedTable(tableInfo('SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE'));
      const refresh = await status.refresh({ fullRefresh: false });
      expect(refresh.updateId).toBe(fake.updates[0]?.updateId);
      expect(refresh.status.state).toBe('ONLINE_TRIGGERED_UPDATE');
    });

    it('subscriptions get the current status, then only changes; polling stops with the last subscriber', async () => {
      const status = cached(0);
      expect(status.active).toBe(false);
      const first = status.subscribe();
      const second = status.subscribe();
      expect(status.active).toBe(true);

      expect((await first.next()).value).toMatchObject({ state: 'ONLINE_NO_PENDING_UPDATE' });
      expect((await second.next()).value).toMatchObject({ state: 'ONLINE_NO_PENDING_UPDATE' });

      // Unchanged (only the read time moved): nothing is emitted.
      clock += 1_000;
      await status.poll();
      const pending = first.next();
      expect(await settledBeforeNextMacrotask(pending)).toBe(false);

      fake.setSyncedTable(tableInfo('SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE', 43));
      await status.poll();
      const changed = await pending;
      expect(changed.value).toMatchObject({
        state: 'ONLINE_TRIGGERED_UPDATE',
        lastSync: { sourceCommitVersion: '43' },
      });
      expect((await second.next()).value).toMatchObject({ state: 'ONLINE_TRIGGERED_UPDATE' });

      await first.return?.();
      expect(status.active).toBe(true);
      await second.return?.();
      expect(status.active).toBe(false);
      expect(await first.next()).toEqual({ done: true, value: undefined });
    });

    it('a poll every TTL reads anew: a change reaches subscribers within one TTL, not two', async () => {
      const status = new CachedSyncStatus(source(), {
        ttlSeconds: 5,
        now,
        pollIntervalMs: 5_000,
        logger: silentLogger,
      });
      const iterator = status.subscribe();
      await iterator.next();
      fake.setSyncedTable(tableInfo('SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE', 46));
      // The interval's next poll: a TTL after the previous one started, a little less after its read settled.
      clock += 4_900;
      await status.poll();
      expect((await iterator.next()).value).toMatchObject({ lastSync: { sourceCommitVersion: '46' } });
      // Clients' reads still share the cache for the TTL.
      await status.get();
      expect(fake.count(flavour.route)).toBe(2);
      await iterator.return?.();
    });

    it('a slow subscriber skips to the newest status', async () => {
      const status = cached(0);
      const iterator = status.subscribe();
      await iterator.next();
      for (const version of [43, 44, 45]) {
        fake.setSyncedTable(tableInfo('SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE', version));
        await status.poll();
      }
      expect((await iterator.next()).value).toMatchObject({ lastSync: { sourceCommitVersion: '45' } });
      await iterator.return?.();
    });

    it('an abort signal ends the subscription', async () => {
      const status = cached(0);
      const controller = new AbortController();
      const iterator = status.subscribe(controller.signal);
      await iterator.next();
      const pending = iterator.next();
      controller.abort();
      expect(await pending).toEqual({ done: true, value: undefined });
      expect(status.active).toBe(false);
    });
  });
});

/**
 * Whether a promise is already settled: a value that is ready resolves within
 * microtasks, before the next macrotask (setImmediate) runs.
 */
async function settledBeforeNextMacrotask(promise: Promise<unknown>): Promise<boolean> {
  const marker = new Promise<false>((resolve) => setImmediate(() => resolve(false)));
  return Promise.race([promise.then(() => true), marker]);
}
