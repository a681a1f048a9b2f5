/**
 * toSyncStatus on SyncedDatabaseTable (Provisioned) and SyncedTable (Autoscaling) answers in the documented shapes
 * (GET /api/2.0/database/synced_tables/{name}).
 */
import { describe, expect, it } from 'vitest';
import type { PostgresSyncedTable, SyncedTableInfo } from '../src/sync/source.js';
import { SYNCED_TABLE_STATES } from '../src/sync/status.js';
import { toSyncStatus, unknownStateReporter } from '../src/sync/to-sync-status.js';

const now = new Date('2026-03-01T12:00:00Z');

const online: SyncedTableInfo = {
  name: 'main.default.trips_synced',
  database_instance_name: 'trips-db',
  logical_database_name: 'databricks_postgres',
  spec: {
    source_table_full_name: 'main.default.trips',
    primary_key_columns: ['id'],
    scheduling_policy: 'TRIGGERED',
  },
  data_synchronization_status: {
    detailed_state: 'SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE',
    message: 'Table is up to date.',
    pipeline_id: '0f3c9f0e-1a2b-4c5d-8e9f-001122334455',
    last_sync: {
      delta_table_sync_info: { delta_commit_version: 42, delta_commit_timestamp: '2026-03-01T11:50:00Z' },
      sync_start_timestamp: '2026-03-01T11:55:00Z',
      sync_end_timestamp: '2026-03-01T11:58:30.500Z',
    },
    triggered_update_status: { last_processed_commit_version: 42, timestamp: '2026-03-01T11:58:30.500Z' },
  },
};

describe('toSyncStatus', () => {
  it('maps an online table with a last sync', () => {
    expect(toSyncStatus(online, now)).toEqual({
      tableName: 'main.default.trips_synced',
      sourceTableName: 'main.default.trips',
      schedulingPolicy: 'TRIGGERED',
      state: 'ONLINE_NO_PENDING_UPDATE',
      message: 'Table is up to date.',
      pipelineId: '0f3c9f0e-1a2b-4c5d-8e9f-001122334455',
      lastSync: {
        sourceCommitVersion: '42',
        sourceCommitAt: new Date('2026-03-01T11:50:00Z'),
        startedAt: new Date('2026-03-01T11:55:00Z'),
        endedAt: new Date('2026-03-01T11:58:30.500Z'),
      },
      progress: null,
      stalenessSeconds: 89.5,
      checkedAt: now,
    });
  });

  it('drops the prefix of every documented state, including the API’s SYNCED_TABLED_OFFLINE typo', () => {
    const raw = [
      'SYNCED_TABLED_OFFLINE',
      'SYNCED_TABLE_OFFLINE_FAILED',
      'SYNCED_TABLE_ONLINE',
      'SYNCED_TABLE_ONLINE_CONTINUOUS_UPDATE',
      'SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE',
      'SYNCED_TABLE_ONLINE_PIPELINE_FAILED',
      'SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE',
      'SYNCED_TABLE_ONLINE_UPDATING_PIPELINE_RESOURCES',
      'SYNCED_TABLE_PROVISIONING',
      'SYNCED_TABLE_PROVISIONING_INITIAL_SNAPSHOT',
      'SYNCED_TABLE_PROVISIONING_PIPELINE_RESOURCES',
    ];
    const states = raw.map(
      (detailed_state) => toSyncStatus({ name: 't', data_synchronization_status: { detailed_state } }, now).state,
    );
    expect(states).toEqual(SYNCED_TABLE_STATES.filter((state) => state !== 'UNKNOWN'));
  });

  it('maps unknown or missing states to UNKNOWN and reports each one once', () => {
    const warnings: string[] = [];
    const report = unknownStateReporter({ warn: (message) => warnings.push(message) });
    const info = (detailed_state?: string): SyncedTableInfo => ({
      name: 't',
      data_synchronization_status: detailed_state === undefined ? {} : { detailed_state },
    });
    for (const state of ['SYNCED_TABLE_HIBERNATING', 'SYNCED_TABLE_HIBERNATING', undefined, 'SYNCED_TABLE_UNKNOWN']) {
      expect(toSyncStatus(info(state), now, { onUnknownState: report }).state).toBe('UNKNOWN');
    }
    expect(warnings).toEqual([
      'unknown synced table detailed_state "SYNCED_TABLE_HIBERNATING"; reporting state UNKNOWN',
      'synced table status has no detailed_state; reporting state UNKNOWN',
      'unknown synced table detailed_state "SYNCED_TABLE_UNKNOWN"; reporting state UNKNOWN',
    ]);
  });

  it('takes progress from the initial snapshot while provisioning', () => {
    const status = toSyncStatus(
      {
        name: 't',
        spec: { scheduling_policy: 'SNAPSHOT' },
        data_synchronization_status: {
          detailed_state: 'SYNCED_TABLE_PROVISIONING_INITIAL_SNAPSHOT',
          provisioning_status: {
            initial_pipeline_sync_progress: {
              sync_progress_completion: 0.25,
              synced_row_count: 5000,
              total_row_count: 20000,
              estimated_completion_time_seconds: 120,
            },
          },
        },
      },
      now,
    );
    expect(status).toMatchObject({
      state: 'PROVISIONING_INITIAL_SNAPSHOT',
      schedulingPolicy: 'SNAPSHOT',
      lastSync: null,
      stalenessSeconds: null,
      progress: { completion: 0.25, syncedRowCount: '5000', totalRowCount: '20000', estimatedSecondsRemaining: 120 },
    });
  });

  it('takes progress from a running triggered update, and int64 values given as strings', () => {
    const status = toSyncStatus(
      {
        name: 't',
        data_synchronization_status: {
          detailed_state: 'SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE',
          last_sync: {
            delta_table_sync_info: { delta_commit_version: '9007199254740993' as unknown as number },
            sync_end_timestamp: '2026-03-01T11:00:00Z',
          },
          triggered_update_status: {
            last_processed_commit_version: 41,
            timestamp: '2026-03-01T11:00:00Z',
            triggered_update_progress: { sync_progress_completion: 0.5, synced_row_count: 10 },
          },
        },
      },
      now,
    );
    expect(status.progress).toEqual({
      completion: 0.5,
      syncedRowCount: '10',
      totalRowCount: null,
      estimatedSecondsRemaining: null,
    });
    expect(status.lastSync?.sourceCommitVersion).toBe('9007199254740993');
    expect(status.stalenessSeconds).toBe(3600);
  });

  it('falls back to the update status when last_sync is absent (during a full refresh)', () => {
    const status = toSyncStatus(
      {
        name: 't',
        data_synchronization_status: {
          detailed_state: 'SYNCED_TABLE_ONLINE_PIPELINE_FAILED',
          message: 'Pipeline failed: source table dropped',
          failed_status: { last_processed_commit_version: 7, timestamp: '2026-03-01T11:59:00Z' },
        },
      },
      now,
    );
    expect(status.lastSync).toEqual({
      sourceCommitVersion: '7',
      sourceCommitAt: null,
      startedAt: null,
      endedAt: new Date('2026-03-01T11:59:00Z'),
    });
    expect(status.stalenessSeconds).toBe(60);
    expect(status.message).toBe('Pipeline failed: source table dropped');
  });

  it('never reports negative staleness when the workspace clock is ahead', () => {
    const ahead = structuredClone(online);
    ahead.data_synchronization_status!.last_sync!.sync_end_timestamp = '2026-03-01T12:00:02Z';
    expect(toSyncStatus(ahead, now).stalenessSeconds).toBe(0);
  });
});

/** GET /api/2.0/postgres/synced_tables/{name} (Lakebase Autoscaling; databricks-sdk-go service/postgres SyncedTable). */
const autoscaling: PostgresSyncedTable = {
  name: 'synced_tables/main.default.trips_synced',
  uid: '0f0e0d0c-0b0a-4909-8807-060504030201',
  spec: {
    branch: 'projects/trips/branches/production',
    postgres_database: 'databricks_postgres',
    source_table_full_name: 'main.default.trips',
    primary_key_columns: ['id'],
    scheduling_policy: 'CONTINUOUS',
  },
  status: {
    detailed_state: 'SYNCED_TABLE_ONLINE_CONTINUOUS_UPDATE',
    message: 'Pipeline is running.',
    pipeline_id: 'b1e2d3c4-0000-4000-8000-000000000002',
    project: 'projects/trips',
    last_processed_commit_version: '9007199254740993',
    last_sync_time: '2026-03-01T11:59:00Z',
    last_sync: {
      delta_table_sync_info: { delta_commit_version: '9007199254740993', delta_commit_time: '2026-03-01T11:58:00Z' },
      sync_start_time: '2026-03-01T11:58:10Z',
      sync_end_time: '2026-03-01T11:59:00Z',
    },
    ongoing_sync_progress: {
      estimated_completion_time_seconds: 12.5,
      latest_version_currently_processing: 44,
      sync_progress_completion: 0.25,
      synced_row_count: 1000,
      total_row_count: 4000,
    },
  },
};

describe('toSyncStatus on the Autoscaling (postgres API) shape', () => {
  it('maps every documented field onto SyncStatus, with the UC name without synced_tables/', () => {
    expect(toSyncStatus(autoscaling, now)).toEqual({
      tableName: 'main.default.trips_synced',
      sourceTableName: 'main.default.trips',
      schedulingPolicy: 'CONTINUOUS',
      state: 'ONLINE_CONTINUOUS_UPDATE',
      message: 'Pipeline is running.',
      pipelineId: 'b1e2d3c4-0000-4000-8000-000000000002',
      lastSync: {
        // int64 as a string keeps all its digits (beyond 2^53).
        sourceCommitVersion: '9007199254740993',
        sourceCommitAt: new Date('2026-03-01T11:58:00Z'),
        startedAt: new Date('2026-03-01T11:58:10Z'),
        endedAt: new Date('2026-03-01T11:59:00Z'),
      },
      progress: { completion: 0.25, syncedRowCount: '1000', totalRowCount: '4000', estimatedSecondsRemaining: 12.5 },
      stalenessSeconds: 60,
      checkedAt: now,
    });
  });

  it('spells OFFLINE correctly (SYNCED_TABLE_OFFLINE), and maps it like Provisioned’s SYNCED_TABLED_OFFLINE', () => {
    const offline = toSyncStatus({ ...autoscaling, status: { detailed_state: 'SYNCED_TABLE_OFFLINE' } }, now);
    const typo = toSyncStatus(
      { name: 't', data_synchronization_status: { detailed_state: 'SYNCED_TABLED_OFFLINE' } },
      now,
    );
    expect([offline.state, typo.state]).toEqual(['OFFLINE', 'OFFLINE']);
  });

  it('without last_sync (e.g. during a full refresh) uses last_processed_commit_version and last_sync_time', () => {
    const { last_sync: _last, ...status } = autoscaling.status ?? {};
    expect(toSyncStatus({ ...autoscaling, status }, now).lastSync).toEqual({
      sourceCommitVersion: '9007199254740993',
      sourceCommitAt: null,
      startedAt: null,
      endedAt: new Date('2026-03-01T11:59:00Z'),
    });
  });

  it('names the provisioning phase while provisioning, and reports no progress or sync when there is none', () => {
    const status = toSyncStatus(
      {
        name: 'synced_tables/main.default.trips_synced',
        status: {
          detailed_state: 'SYNCED_TABLE_PROVISIONING_INITIAL_SNAPSHOT',
          provisioning_phase: 'PROVISIONING_PHASE_INDEX_SCAN',
        },
      },
      now,
    );
    expect(status).toMatchObject({
      state: 'PROVISIONING_INITIAL_SNAPSHOT',
      message: 'provisioning phase PROVISIONING_PHASE_INDEX_SCAN',
      lastSync: null,
      progress: null,
      stalenessSeconds: null,
      sourceTableName: null,
      schedulingPolicy: null,
    });
  });

  it('adds the Unity Catalog entity state when it is not ACTIVE, and the Provisioned provisioning phase', () => {
    const failedEntity = toSyncStatus(
      {
        ...autoscaling,
        status: { ...autoscaling.status, message: 'Creating table.', unity_catalog_provisioning_state: 'FAILED' },
      },
      now,
    );
    expect(failedEntity.message).toBe('Creating table.; Unity Catalog table state FAILED');
    const active = { ...autoscaling, status: { ...autoscaling.status, unity_catalog_provisioning_state: 'ACTIVE' } };
    expect(toSyncStatus(active, now).message).toBe(toSyncStatus(autoscaling, now).message);

    const provisioning = toSyncStatus(
      {
        ...online,
        unity_catalog_provisioning_state: 'PROVISIONING',
        data_synchronization_status: {
          detailed_state: 'SYNCED_TABLE_PROVISIONING_INITIAL_SNAPSHOT',
          provisioning_status: {
            initial_pipeline_sync_progress: {
              provisioning_phase: 'PROVISIONING_PHASE_MAIN',
              sync_progress_completion: 0.25,
            },
          },
        },
      },
      now,
    );
    expect(provisioning).toMatchObject({
      state: 'PROVISIONING_INITIAL_SNAPSHOT',
      message: 'provisioning phase PROVISIONING_PHASE_MAIN; Unity Catalog table state PROVISIONING',
    });
  });

  it('an unknown state is reported and maps to UNKNOWN', () => {
    const seen: Array<string | undefined> = [];
    const status = toSyncStatus({ ...autoscaling, status: { detailed_state: 'SYNCED_TABLE_HIBERNATING' } }, now, {
      onUnknownState: (raw) => seen.push(raw),
    });
    expect(status.state).toBe('UNKNOWN');
    expect(seen).toEqual(['SYNCED_TABLE_HIBERNATING']);
  });
});
