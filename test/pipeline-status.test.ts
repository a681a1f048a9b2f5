/**
 * The status JSON in the Databricks SyncedDatabaseTable shape, for the states
 * the emulation goes through: provisioning with progress, triggered and
 * continuous updates, failure and recovery, and a continuous table whose
 * worker is not running.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSyncSource } from '../src/dev/pipeline/local-sync-source.js';
import { relations } from '../src/dev/pipeline/names.js';
import { seedLocalPipeline } from '../src/dev/pipeline/seed.js';
import { buildSyncedTableInfo } from '../src/dev/pipeline/status-json.js';
import type { SyncedTableState } from '../src/dev/pipeline/state.js';
import type { PipelineUpdate } from '../src/dev/pipeline/updates.js';
import { SyncWorker } from '../src/dev/pipeline/worker.js';
import type { TestDatabase } from './support/database.js';
import {
  createPipelineTestDatabase,
  createWorkerPool,
  headVersion,
  InsertGate,
  SyncListener,
  uniqueNames,
} from './support/pipeline.js';

const synced: SyncedTableState = {
  name: 'main.default.trips_synced',
  sourceTableFullName: 'main.lakebase_dev_source.trips',
  schedulingPolicy: 'TRIGGERED',
  pipelineId: '0b9a4c2e-3a57-4d8e-9a43-000000000001',
  detailedState: 'SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE',
  message: 'Running incremental update u1.',
  lastProcessedVersion: 41,
  lastCommitTimestamp: '2026-01-02T03:04:05.000001Z',
  lastSyncStart: '2026-01-02T03:04:06.000000Z',
  lastSyncEnd: '2026-01-02T03:04:07.500000Z',
  failedAt: null,
};

const running: PipelineUpdate = {
  updateId: 'u1',
  fullRefresh: false,
  cause: 'API_CALL',
  state: 'RUNNING',
  attempts: 1,
  requestedAt: '2026-01-02T03:05:00.000000Z',
  startedAt: '2026-01-02T03:05:00.000000Z',
  endedAt: null,
  latestVersionCurrentlyProcessing: 45,
  syncedRowCount: 250,
  totalRowCount: 1000,
  message: null,
};

describe('status JSON', () => {
  it('renders a running triggered update with its progress and estimated time left', () => {
    const info = buildSyncedTableInfo({
      state: synced,
      activeUpdate: running,
      runnerActive: true,
      databaseName: 'dev',
      now: new Date('2026-01-02T03:05:10.000Z'),
    });
    expect(info).toEqual({
      name: 'main.default.trips_synced',
      database_instance_name: 'local-dev',
      logical_database_name: 'dev',
      spec: {
        source_table_full_name: 'main.lakebase_dev_source.trips',
        primary_key_columns: ['id'],
        scheduling_policy: 'TRIGGERED',
      },
      data_synchronization_status: {
        detailed_state: 'SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE',
        message: 'Running incremental update u1.',
        pipeline_id: '0b9a4c2e-3a57-4d8e-9a43-000000000001',
        last_sync: {
          delta_table_sync_info: { delta_commit_version: 41, delta_commit_timestamp: '2026-01-02T03:04:05.000001Z' },
          sync_start_timestamp: '2026-01-02T03:04:06.000000Z',
          sync_end_timestamp: '2026-01-02T03:04:07.500000Z',
        },
        triggered_update_status: {
          last_processed_commit_version: 41,
          timestamp: '2026-01-02T03:04:07.500000Z',
          triggered_update_progress: {
            latest_version_currently_processing: 45,
            sync_progress_completion: 0.25,
            synced_row_count: 250,
            total_row_count: 1000,
            // A quarter done in 10 s: 30 s to go.
            estimated_completion_time_seconds: 30,
          },
        },
      },
    });
  });

  it('reports an update asked for and not started yet as pending, not "no pending update"', () => {
    // refreshSyncedTable answers with the status right after queueing its update.
    const info = buildSyncedTableInfo({
      state: {
        ...synced,
        detailedState: 'SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE',
        message: 'Synced to source version 41.',
      },
      activeUpdate: { ...running, state: 'QUEUED', startedAt: null, attempts: 0 },
      runnerActive: true,
      databaseName: 'dev',
      now: new Date('2026-01-02T03:05:10.000Z'),
    });
    expect(info.data_synchronization_status).toMatchObject({
      detailed_state: 'SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE',
      message: 'An update is queued (incremental); the pipeline starts it shortly.',
      triggered_update_status: { last_processed_commit_version: 41 },
    });
    expect(info.data_synchronization_status?.triggered_update_status?.triggered_update_progress).toBeUndefined();
  });

  it('reports a continuous table without a running worker as online but not updating', () => {
    const info = buildSyncedTableInfo({
      state: { ...synced, schedulingPolicy: 'CONTINUOUS', detailedState: 'SYNCED_TABLE_ONLINE_CONTINUOUS_UPDATE' },
      activeUpdate: null,
      runnerActive: false,
      databaseName: 'dev',
      now: new Date(),
    });
    expect(info.data_synchronization_status?.detailed_state).toBe('SYNCED_TABLE_ONLINE');
    expect(info.data_synchronization_status?.message).toMatch(/not running.*pipeline --policy CONTINUOUS/);
    expect(info.data_synchronization_status?.last_sync?.delta_table_sync_info?.delta_commit_version).toBe(41);
    expect(info.data_synchronization_status?.continuous_update_status).toBeUndefined();
  });

  it('omits last_sync before the first sync', () => {
    const info = buildSyncedTableInfo({
      state: {
        ...synced,
        detailedState: 'SYNCED_TABLE_PROVISIONING',
        lastProcessedVersion: null,
        lastCommitTimestamp: null,
        lastSyncStart: null,
        lastSyncEnd: null,
      },
      activeUpdate: null,
      runnerActive: true,
      databaseName: 'dev',
      now: new Date(),
    });
    expect(info.data_synchronization_status).toEqual({
      detailed_state: 'SYNCED_TABLE_PROVISIONING',
      message: 'Running incremental update u1.',
      pipeline_id: '0b9a4c2e-3a57-4d8e-9a43-000000000001',
      provisioning_status: {},
    });
  });
});

describe('status of the running emulation', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createPipelineTestDatabase('pipeline_status');
  });
  afterAll(() => db.drop());

  it('shows the initial snapshot in progress, then the table online', async () => {
    const names = uniqueNames('initial');
    const r = relations(names);
    // Registers the table and fills the source, with its initial snapshot held at the gate.
    await db.pool.query(`CREATE SCHEMA ${names.syncedSchema}`);
    await db.pool.query(`CREATE TABLE ${r.synced} (id bigint PRIMARY KEY, tpep_pickup_datetime timestamptz,
      tpep_dropoff_datetime timestamptz, trip_distance double precision, fare_amount double precision,
      pickup_zip integer, dropoff_zip integer)`);
    const gate = await InsertGate.close(db.url, db.pool, names, 5151, 100);
    const seeding = seedLocalPipeline(db.pool, {
      names,
      settings: { snapshotChunkRows: 100 },
      loadSource: async (client) => {
        await client.query(`INSERT INTO ${r.source} (id) SELECT g FROM generate_series(1, 1000) g`);
      },
    });
    try {
      await gate.waitForArrival();
      const status = (await new LocalSyncSource(db.pool, { names }).getSyncedTable()).data_synchronization_status;
      expect(status?.detailed_state).toBe('SYNCED_TABLE_PROVISIONING_INITIAL_SNAPSHOT');
      expect(status?.last_sync).toBeUndefined();
      expect(status?.provisioning_status?.initial_pipeline_sync_progress).toMatchObject({
        synced_row_count: 100,
        total_row_count: 1000,
        sync_progress_completion: 0.1,
        latest_version_currently_processing: 1,
      });
    } finally {
      await gate.open();
    }
    expect(await seeding).toMatchObject({ snapshot: 'ran', sourceRows: 1000, syncedVersion: 1 });
    const status = (await new LocalSyncSource(db.pool, { names }).getSyncedTable()).data_synchronization_status;
    expect(status?.detailed_state).toBe('SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE');
    expect(status?.provisioning_status).toBeUndefined();
  });

  it('reports a failed sync with the database error, and recovers on the next one', async () => {
    const names = uniqueNames('failing');
    const r = relations(names);
    await seedLocalPipeline(db.pool, { names, policy: 'TRIGGERED' });
    const source = new LocalSyncSource(db.pool, { names });
    await source.startUpdate({ fullRefresh: false });
    await source.settled();
    const before = (await source.getSyncedTable()).data_synchronization_status;

    await db.pool.query(`ALTER TABLE ${r.synced} ADD CONSTRAINT fare_not_negative CHECK (fare_amount >= 0)`);
    await db.pool.query(`INSERT INTO ${r.source} (id, fare_amount) VALUES (1, -5)`);
    const { updateId } = await source.startUpdate({ fullRefresh: false });
    await source.settled();
    const failed = (await source.getSyncedTable()).data_synchronization_status;
    expect(failed?.detailed_state).toBe('SYNCED_TABLE_ONLINE_PIPELINE_FAILED');
    expect(failed?.message).toMatch(/fare_not_negative/);
    expect(failed?.failed_status).toEqual({
      last_processed_commit_version: before?.last_sync?.delta_table_sync_info?.delta_commit_version,
      timestamp: before?.last_sync?.sync_end_timestamp,
    });
    expect(failed?.last_sync).toEqual(before?.last_sync);
    const { rows } = await db.pool.query<{ state: string }>(`SELECT state FROM ${r.updates} WHERE update_id = $1`, [
      updateId,
    ]);
    expect(rows).toEqual([{ state: 'FAILED' }]);

    await db.pool.query(`ALTER TABLE ${r.synced} DROP CONSTRAINT fare_not_negative`);
    await source.startUpdate({ fullRefresh: false });
    await source.settled();
    const recovered = (await source.getSyncedTable()).data_synchronization_status;
    expect(recovered?.detailed_state).toBe('SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE');
    expect(recovered?.failed_status).toBeUndefined();
    expect(recovered?.last_sync?.delta_table_sync_info?.delta_commit_version).toBe(await headVersion(db.pool, names));
  });

  it('notifies status changes as well as syncs', async () => {
    const names = uniqueNames('events');
    await seedLocalPipeline(db.pool, { names, policy: 'TRIGGERED' });
    const listener = await SyncListener.start(db.url, names);
    const pool = createWorkerPool(db.url);
    const worker = new SyncWorker(pool, { names, intervalMs: 3_600_000 });
    await worker.start();
    try {
      await db.pool.query(`INSERT INTO ${relations(names).source} (id) VALUES (1)`);
      await new LocalSyncSource(db.pool, { names }).startUpdate({ fullRefresh: false });
      await listener.syncedTo(await headVersion(db.pool, names));
      expect(listener.received.map((n) => `${n.event} ${n.state}`)).toEqual([
        'status SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE',
        'sync SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE',
      ]);
    } finally {
      await worker.stop();
      await pool.end();
      await listener.close();
    }
  });

  it('shows a continuous table as continuously updating while its worker runs', async () => {
    const names = uniqueNames('cont');
    await seedLocalPipeline(db.pool, { names, policy: 'CONTINUOUS' });
    const source = new LocalSyncSource(db.pool, { names });
    expect((await source.getSyncedTable()).data_synchronization_status?.detailed_state).toBe('SYNCED_TABLE_ONLINE');
    const pool = createWorkerPool(db.url);
    const worker = new SyncWorker(pool, { names, intervalMs: 3_600_000 });
    await worker.start();
    try {
      const status = (await source.getSyncedTable()).data_synchronization_status;
      expect(status?.detailed_state).toBe('SYNCED_TABLE_ONLINE_CONTINUOUS_UPDATE');
      expect(status?.continuous_update_status?.last_processed_commit_version).toBe(0);
    } finally {
      await worker.stop();
      await pool.end();
    }
    expect((await source.getSyncedTable()).data_synchronization_status?.detailed_state).toBe('SYNCED_TABLE_ONLINE');
  });
});
