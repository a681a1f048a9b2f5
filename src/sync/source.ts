/**
 * The sync pipeline seen from the gateway. Production reads it from the
 * Databricks workspace (database.getSyncedDatabaseTable, pipelines.startUpdate);
 * local development reads the emulated pipeline in src/dev/pipeline. Both speak
 * the Databricks REST shape, so one mapping (toSyncStatus) serves both and the
 * GraphQL API behaves identically.
 */

/** Subset of the Databricks `SyncedDatabaseTable` JSON the gateway uses (snake_case, as on the wire). */
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
}

export interface SyncedTablePosition {
  delta_table_sync_info?: { delta_commit_version?: number; delta_commit_timestamp?: string };
  sync_start_timestamp?: string;
  sync_end_timestamp?: string;
}

export interface PipelineProgress {
  estimated_completion_time_seconds?: number;
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

export interface SyncSource {
  /** Human-readable kind for logs: "databricks" or "local-emulator". */
  readonly kind: string;
  getSyncedTable(): Promise<SyncedTableInfo>;
  /** Starts a pipeline update; resolves to its update id. */
  startUpdate(options: { fullRefresh: boolean }): Promise<{ updateId: string | undefined }>;
}
