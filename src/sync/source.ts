/**
 * The sync pipeline seen from the gateway. Production reads it from the
 * Databricks workspace (database.getSyncedDatabaseTable, pipelines.startUpdate);
 * local development reads the emulated pipeline in src/dev/pipeline. Both speak
 * the Databricks REST shape, so one mapping (toSyncStatus) serves both and the
 * GraphQL API behaves identically.
 */

/**
 * Subset of the Lakebase Provisioned `SyncedDatabaseTable` JSON the gateway uses
 * (GET /api/2.0/database/synced_tables/{name}; snake_case, as on the wire).
 */
export interface SyncedTableInfo {
  name: string;
  database_instance_name?: string;
  /** Always returned; for tables in a database catalog it is inferred from the catalog. */
  effective_database_instance_name?: string;
  logical_database_name?: string;
  effective_logical_database_name?: string;
  spec?: {
    source_table_full_name?: string;
    primary_key_columns?: string[];
    scheduling_policy?: 'SNAPSHOT' | 'TRIGGERED' | 'CONTINUOUS' | string;
  };
  data_synchronization_status?: {
    /** e.g. SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE. Note the real API also emits the typo SYNCED_TABLED_OFFLINE. */
    detailed_state?: string;
    message?: string;
    pipeline_id?: string;
    last_sync?: SyncedTablePosition;
    continuous_update_status?: UpdateStatus;
    triggered_update_status?: UpdateStatus;
    provisioning_status?: { initial_pipeline_sync_progress?: PipelineProgress };
    failed_status?: { last_processed_commit_version?: number; timestamp?: string };
  };
  /** The table's entity in Unity Catalog (ACTIVE, PROVISIONING, UPDATING, DEGRADED, FAILED, DELETING), apart from its data. */
  unity_catalog_provisioning_state?: string;
}

export interface SyncedTablePosition {
  delta_table_sync_info?: { delta_commit_version?: number; delta_commit_timestamp?: string };
  sync_start_timestamp?: string;
  sync_end_timestamp?: string;
}

export interface PipelineProgress {
  estimated_completion_time_seconds?: number;
  /** Provisioned only (SyncedTablePipelineProgress); Autoscaling has it at the top of `status`. */
  provisioning_phase?: string;
  latest_version_currently_processing?: number;
  sync_progress_completion?: number;
  synced_row_count?: number;
  total_row_count?: number;
}

export interface UpdateStatus {
  last_processed_commit_version?: number;
  timestamp?: string;
  triggered_update_progress?: PipelineProgress;
  initial_pipeline_sync_progress?: PipelineProgress;
}

/**
 * The Lakebase Autoscaling `SyncedTable` JSON
 * (GET /api/2.0/postgres/synced_tables/{name}; databricks-sdk-go service/postgres).
 * Unlike SyncedTableInfo there are no per-policy status objects: one
 * `ongoing_sync_progress` and the last processed version at the top of `status`.
 */
export interface PostgresSyncedTable {
  /** "synced_tables/<catalog>.<schema>.<table>". */
  name: string;
  uid?: string;
  synced_table_id?: string;
  create_time?: string;
  spec?: {
    /** "projects/<project>/branches/<branch>". */
    branch?: string;
    postgres_database?: string;
    source_table_full_name?: string;
    primary_key_columns?: string[];
    scheduling_policy?: 'SNAPSHOT' | 'TRIGGERED' | 'CONTINUOUS' | string;
    timeseries_key?: string;
    create_database_objects_if_missing?: boolean;
    existing_pipeline_id?: string;
  };
  status?: {
    /** e.g. SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE; spelled SYNCED_TABLE_OFFLINE here (no "TABLED"). */
    detailed_state?: string;
    message?: string;
    pipeline_id?: string;
    /** "projects/<project>". */
    project?: string;
    /** PROVISIONING_PHASE_MAIN, PROVISIONING_PHASE_INDEX_SCAN, PROVISIONING_PHASE_INDEX_SORT. */
    provisioning_phase?: string;
    unity_catalog_provisioning_state?: string;
    last_processed_commit_version?: number | string;
    /** When data last became available in the synced table. */
    last_sync_time?: string;
    last_sync?: PostgresSyncedTablePosition;
    ongoing_sync_progress?: PipelineProgress;
  };
}

export interface PostgresSyncedTablePosition {
  delta_table_sync_info?: { delta_commit_version?: number | string; delta_commit_time?: string };
  sync_start_time?: string;
  sync_end_time?: string;
}

/** A synced table as either API answers it. */
export type AnySyncedTable = SyncedTableInfo | PostgresSyncedTable;

/** The Autoscaling shape has `status` (and a `synced_tables/` name); the Provisioned one never has `status`. */
export function isPostgresSyncedTable(table: AnySyncedTable): table is PostgresSyncedTable {
  return 'status' in table || table.name.startsWith('synced_tables/');
}

/** The sync pipeline's id, whichever API answered. */
export function pipelineIdOf(table: AnySyncedTable): string | undefined {
  return isPostgresSyncedTable(table) ? table.status?.pipeline_id : table.data_synchronization_status?.pipeline_id;
}

/** The raw detailed_state, whichever API answered. */
export function detailedStateOf(table: AnySyncedTable): string | undefined {
  return isPostgresSyncedTable(table)
    ? table.status?.detailed_state
    : table.data_synchronization_status?.detailed_state;
}

export interface SyncSource {
  /** Human-readable kind for logs: "databricks" or "local-emulator". */
  readonly kind: string;
  getSyncedTable(): Promise<AnySyncedTable>;
  /** Starts a pipeline update; resolves to its update id. */
  startUpdate(options: { fullRefresh: boolean }): Promise<{ updateId: string | undefined }>;
}
