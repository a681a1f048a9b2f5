/**
 * The two shapes a workspace answers for one synced table: Lakebase
 * Autoscaling (postgres API) and Lakebase Provisioned (database API). Tests run
 * once per flavour, each building the same logical status in its API's shape.
 */
import type { SyncedTableApi } from '../../src/databricks/synced-table-api.js';
import type { AnySyncedTable } from '../../src/sync/source.js';
import type { FakeRoute } from './fake-workspace.js';

export interface SyncedTableFixture {
  /** Unity Catalog full name. */
  table: string;
  detailedState: string;
  commitVersion?: number;
  pipelineId?: string | null;
  message?: string;
  schedulingPolicy?: string;
}

export interface SyncedTableFlavour {
  name: 'Autoscaling' | 'Provisioned';
  api: SyncedTableApi;
  /** The fake workspace route that serves this flavour's status. */
  route: FakeRoute;
  path(table: string): string;
  /** The OFFLINE state as this API spells it. */
  offlineState: string;
  build(fixture: SyncedTableFixture): AnySyncedTable;
}

const COMMIT_AT = '2026-03-01T11:50:00Z';
const STARTED_AT = '2026-03-01T11:55:00Z';
const ENDED_AT = '2026-03-01T11:58:00Z';

export const autoscaling: SyncedTableFlavour = {
  name: 'Autoscaling',
  api: 'postgres',
  route: 'postgres-synced-table',
  path: (table) => `/api/2.0/postgres/synced_tables/${table}`,
  offlineState: 'SYNCED_TABLE_OFFLINE',
  build: ({ table, detailedState, commitVersion = 42, pipelineId, message, schedulingPolicy = 'TRIGGERED' }) => ({
    name: `synced_tables/${table}`,
    uid: '0f0e0d0c-0b0a-4909-8807-060504030201',
    spec: {
      branch: 'projects/trips/branches/production',
      postgres_database: 'databricks_postgres',
      source_table_full_name: 'main.default.trips',
      primary_key_columns: ['id'],
      scheduling_policy: schedulingPolicy,
    },
    status: {
      detailed_state: detailedState,
      ...(pipelineId === null || pipelineId === undefined ? {} : { pipeline_id: pipelineId }),
      ...(message === undefined ? {} : { message }),
      project: 'projects/trips',
      last_processed_commit_version: commitVersion,
      last_sync_time: ENDED_AT,
      last_sync: {
        delta_table_sync_info: { delta_commit_version: commitVersion, delta_commit_time: COMMIT_AT },
        sync_start_time: STARTED_AT,
        sync_end_time: ENDED_AT,
      },
    },
  }),
};

export const provisioned: SyncedTableFlavour = {
  name: 'Provisioned',
  api: 'database',
  route: 'synced-table',
  path: (table) => `/api/2.0/database/synced_tables/${table}`,
  offlineState: 'SYNCED_TABLED_OFFLINE',
  build: ({ table, detailedState, commitVersion = 42, pipelineId, message, schedulingPolicy = 'TRIGGERED' }) => ({
    name: table,
    database_instance_name: 'trips-db',
    spec: {
      source_table_full_name: 'main.default.trips',
      primary_key_columns: ['id'],
      scheduling_policy: schedulingPolicy,
    },
    data_synchronization_status: {
      detailed_state: detailedState,
      ...(pipelineId === null || pipelineId === undefined ? {} : { pipeline_id: pipelineId }),
      ...(message === undefined ? {} : { message }),
      last_sync: {
        delta_table_sync_info: { delta_commit_version: commitVersion, delta_commit_timestamp: COMMIT_AT },
        sync_start_timestamp: STARTED_AT,
        sync_end_timestamp: ENDED_AT,
      },
    },
  }),
};

export const FLAVOURS: readonly SyncedTableFlavour[] = [autoscaling, provisioned];

export function otherFlavour(flavour: SyncedTableFlavour): SyncedTableFlavour {
  return flavour === autoscaling ? provisioned : autoscaling;
}
