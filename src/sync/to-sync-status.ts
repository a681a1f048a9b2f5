/**
 * Maps the Databricks SyncedDatabaseTable JSON (from the workspace, or from
 * the local emulator, which writes the same shape) onto the contract's
 * SyncStatus. Pure: the clock and the unknown-state reporter are parameters.
 */
import type { PipelineProgress, SyncedTableInfo, SyncedTablePosition, UpdateStatus } from './source.js';
import {
  SYNC_SCHEDULING_POLICIES,
  SYNCED_TABLE_STATES,
  type SyncPosition,
  type SyncProgress,
  type SyncSchedulingPolicy,
  type SyncStatus,
  type SyncedTableState,
} from './status.js';

// SYNCED_TABLED_ is not a typo here: the API really emits SYNCED_TABLED_OFFLINE.
const STATE_PREFIX = /^SYNCED_TABLED?_/;

export interface MappingOptions {
  /** Called with the raw detailed_state when it maps to UNKNOWN (absent → undefined). */
  onUnknownState?: (raw: string | undefined) => void;
}

export function toSyncedTableState(raw: string | undefined): SyncedTableState | undefined {
  if (raw === undefined) return undefined;
  const stripped = raw.replace(STATE_PREFIX, '');
  return (SYNCED_TABLE_STATES as readonly string[]).includes(stripped) && stripped !== 'UNKNOWN'
    ? (stripped as SyncedTableState)
    : undefined;
}

/** Commit versions and row counts are int64: JSON may carry them as numbers or as strings. */
function bigIntString(value: unknown): string | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return value;
  return null;
}

function finiteNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function timestamp(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function toPosition(position: SyncedTablePosition): SyncPosition {
  return {
    sourceCommitVersion: bigIntString(position.delta_table_sync_info?.delta_commit_version),
    sourceCommitAt: timestamp(position.delta_table_sync_info?.delta_commit_timestamp),
    startedAt: timestamp(position.sync_start_timestamp),
    endedAt: timestamp(position.sync_end_timestamp),
  };
}

/**
 * last_sync is absent during a full refresh (documented limitation). The
 * update statuses still carry the last processed version and when it landed,
 * which is the same position with fewer details.
 */
function fallbackPosition(statuses: Array<UpdateStatus | undefined>): SyncPosition | null {
  for (const status of statuses) {
    if (status?.last_processed_commit_version === undefined && status?.timestamp === undefined) continue;
    return {
      sourceCommitVersion: bigIntString(status.last_processed_commit_version),
      sourceCommitAt: null,
      startedAt: null,
      endedAt: timestamp(status.timestamp),
    };
  }
  return null;
}

function toProgress(progress: PipelineProgress): SyncProgress {
  return {
    completion: finiteNumber(progress.sync_progress_completion),
    syncedRowCount: bigIntString(progress.synced_row_count),
    totalRowCount: bigIntString(progress.total_row_count),
    estimatedSecondsRemaining: finiteNumber(progress.estimated_completion_time_seconds),
  };
}

function schedulingPolicy(raw: string | undefined): SyncSchedulingPolicy | null {
  return (SYNC_SCHEDULING_POLICIES as readonly string[]).includes(raw ?? '') ? (raw as SyncSchedulingPolicy) : null;
}

export function toSyncStatus(info: SyncedTableInfo, now: Date, options: MappingOptions = {}): SyncStatus {
  const status = info.data_synchronization_status ?? {};
  let state = toSyncedTableState(status.detailed_state);
  if (state === undefined) {
    options.onUnknownState?.(status.detailed_state);
    state = 'UNKNOWN';
  }
  const updateStatuses = [status.triggered_update_status, status.continuous_update_status, status.failed_status];
  const lastSync = status.last_sync ? toPosition(status.last_sync) : fallbackPosition(updateStatuses);
  // Whichever update is running reports progress: the initial snapshot while
  // provisioning, a triggered update, or the initial phase of a continuous one.
  const progress =
    status.provisioning_status?.initial_pipeline_sync_progress ??
    status.triggered_update_status?.triggered_update_progress ??
    status.triggered_update_status?.initial_pipeline_sync_progress ??
    status.continuous_update_status?.initial_pipeline_sync_progress;
  const endedAt = lastSync?.endedAt;
  return {
    tableName: info.name,
    sourceTableName: info.spec?.source_table_full_name ?? null,
    schedulingPolicy: schedulingPolicy(info.spec?.scheduling_policy),
    state,
    message: status.message ?? null,
    pipelineId: status.pipeline_id ?? null,
    lastSync,
    progress: progress ? toProgress(progress) : null,
    // Clamped: a workspace clock slightly ahead of ours must not yield negative staleness.
    stalenessSeconds: endedAt ? Math.max(0, (now.getTime() - endedAt.getTime()) / 1000) : null,
    checkedAt: now,
  };
}

/** Reports each distinct unknown detailed_state once, however often it is polled. */
export function unknownStateReporter(warn: (message: string) => void): (raw: string | undefined) => void {
  const seen = new Set<string | undefined>();
  return (raw) => {
    if (seen.has(raw)) return;
    seen.add(raw);
    warn(
      raw === undefined
        ? 'synced table status has no detailed_state; reporting state UNKNOWN'
        : `unknown synced table detailed_state "${raw}"; reporting state UNKNOWN`,
    );
  };
}
