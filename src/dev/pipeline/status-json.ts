/**
 * Renders the emulated pipeline's state as the Databricks REST API renders a
 * synced table (GET /api/2.0/database/synced_tables/{name}), so the gateway
 * maps local and production status with the same code.
 */
import type { PipelineProgress, SyncedTableInfo, SyncedTablePosition, UpdateStatus } from '../../sync/source.js';
import type { SyncedTableState } from './state.js';
import type { PipelineUpdate } from './updates.js';

export interface StatusInput {
  state: SyncedTableState;
  /** The update running (or queued) now, if any. */
  activeUpdate: PipelineUpdate | null;
  /** Whether a worker or an inline runner holds the runner lock. */
  runnerActive: boolean;
  databaseName: string;
  now: Date;
}

export const LOCAL_INSTANCE_NAME = 'local-dev';

export function buildSyncedTableInfo(input: StatusInput): SyncedTableInfo {
  const { state, activeUpdate } = input;
  const synced = state.lastProcessedVersion !== null;
  const lastSync: SyncedTablePosition | undefined = synced
    ? {
        delta_table_sync_info: {
          delta_commit_version: state.lastProcessedVersion ?? undefined,
          delta_commit_timestamp: state.lastCommitTimestamp ?? undefined,
        },
        sync_start_timestamp: state.lastSyncStart ?? undefined,
        sync_end_timestamp: state.lastSyncEnd ?? undefined,
      }
    : undefined;
  const position: UpdateStatus = synced
    ? {
        last_processed_commit_version: state.lastProcessedVersion ?? undefined,
        timestamp: state.lastSyncEnd ?? undefined,
      }
    : {};
  const progress = activeUpdate?.state === 'RUNNING' ? toProgress(activeUpdate, input.now) : undefined;

  let detailedState = state.detailedState;
  let message = state.message ?? undefined;
  // A continuous table whose worker is gone is no longer being updated, whatever was stored last.
  if (
    state.schedulingPolicy === 'CONTINUOUS' &&
    detailedState === 'SYNCED_TABLE_ONLINE_CONTINUOUS_UPDATE' &&
    !input.runnerActive
  ) {
    detailedState = 'SYNCED_TABLE_ONLINE';
    message =
      'The continuous pipeline is not running; start it with `npm run data -- pipeline --policy CONTINUOUS` ' +
      '(or run the dev server, which starts it).';
  }
  // An update asked for and not started yet is pending: refreshSyncedTable's answer said "no pending update" for
  // the update it had just queued.
  if (detailedState === 'SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE' && activeUpdate?.state === 'QUEUED') {
    detailedState = 'SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE';
    message = `An update is queued (${activeUpdate.fullRefresh ? 'full refresh' : 'incremental'}); the pipeline starts it shortly.`;
  }

  const status: NonNullable<SyncedTableInfo['data_synchronization_status']> = {
    detailed_state: detailedState,
    message,
    pipeline_id: state.pipelineId,
    last_sync: lastSync,
  };
  switch (detailedState) {
    case 'SYNCED_TABLE_PROVISIONING':
    case 'SYNCED_TABLE_PROVISIONING_INITIAL_SNAPSHOT':
      status.provisioning_status = { initial_pipeline_sync_progress: progress };
      break;
    case 'SYNCED_TABLE_ONLINE_CONTINUOUS_UPDATE':
      status.continuous_update_status = { ...position, initial_pipeline_sync_progress: progress };
      break;
    case 'SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE':
    case 'SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE':
      status.triggered_update_status = { ...position, triggered_update_progress: progress };
      break;
    case 'SYNCED_TABLE_ONLINE_PIPELINE_FAILED':
    case 'SYNCED_TABLE_OFFLINE_FAILED':
      status.failed_status = {
        last_processed_commit_version: position.last_processed_commit_version,
        timestamp: position.timestamp,
      };
      break;
  }
  return withoutUndefined({
    name: state.name,
    database_instance_name: LOCAL_INSTANCE_NAME,
    logical_database_name: input.databaseName,
    spec: {
      source_table_full_name: state.sourceTableFullName,
      primary_key_columns: ['id'],
      scheduling_policy: state.schedulingPolicy,
    },
    data_synchronization_status: status,
  });
}

function toProgress(update: PipelineUpdate, now: Date): PipelineProgress {
  const synced = update.syncedRowCount ?? 0;
  const total = update.totalRowCount;
  const completion = total === null ? 0 : total === 0 ? 1 : Math.min(1, synced / total);
  const elapsedSeconds = update.startedAt ? Math.max(0, (now.getTime() - Date.parse(update.startedAt)) / 1000) : 0;
  return {
    latest_version_currently_processing: update.latestVersionCurrentlyProcessing ?? undefined,
    sync_progress_completion: completion,
    synced_row_count: synced,
    total_row_count: total ?? undefined,
    estimated_completion_time_seconds:
      completion > 0 && completion < 1 ? (elapsedSeconds * (1 - completion)) / completion : undefined,
  };
}

/** JSON.stringify drops undefined anyway; dropping it here makes the object equal its JSON form. */
function withoutUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
