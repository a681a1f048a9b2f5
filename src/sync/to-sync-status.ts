/**
 * Maps a synced table's JSON onto the contract's SyncStatus, from either API:
 * Lakebase Provisioned's SyncedDatabaseTable (the workspace, or the local
 * emulator, which writes the same shape) or Lakebase Autoscaling's SyncedTable.
 * Pure: the clock and the unknown-state reporter are parameters.
 */
import type { Logger } from '../logger.js';
import {
  isPostgresSyncedTable,
  type AnySyncedTable,
  type PipelineProgress,
  type PostgresSyncedTable,
  type SyncedTableInfo,
  type SyncedTablePosition,
  type UpdateStatus,
} from './source.js';
import {
  SYNC_SCHEDULING_POLICIES,
  SYNCED_TABLE_STATES,
  type SyncPosition,
  type SyncProgress,
  type SyncSchedulingPolicy,
  type SyncStatus,
  type SyncedTableState,
} from './status.js';

// SYNCED_TABLED_ is not a typo here: the Provisioned API really emits SYNCED_TABLED_OFFLINE
// (Autoscaling spells it SYNCED_TABLE_OFFLINE); both map to OFFLINE.
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

function stateOf(raw: string | undefined, options: MappingOptions): SyncedTableState {
  const state = toSyncedTableState(raw);
  if (state !== undefined) return state;
  options.onUnknownState?.(raw);
  return 'UNKNOWN';
}

/**
 * Seconds since the last successful sync ended, at `now`. Exported for the API and the metrics, which compute it
 * when they answer: a status is read once per SYNC_STATUS_CACHE_SECONDS, and the figure computed at that read
 * would be up to that much low.
 */
export function staleness(lastSync: SyncPosition | null, now: Date): number | null {
  const endedAt = lastSync?.endedAt;
  // Clamped: a workspace clock slightly ahead of ours must not yield negative staleness.
  return endedAt ? Math.max(0, (now.getTime() - endedAt.getTime()) / 1000) : null;
}

const SYNCED_TABLES_PREFIX = 'synced_tables/';

/**
 * Lakebase Autoscaling. Every documented status field has a place:
 * last_sync → lastSync (falling back to last_processed_commit_version and
 * last_sync_time, which remain while last_sync is absent, e.g. during a full
 * refresh); ongoing_sync_progress → progress (latest_version_currently_processing
 * has no field in the contract, as on Provisioned); provisioning_phase is
 * appended to message while the table is provisioning, and
 * unity_catalog_provisioning_state when it is not ACTIVE; project is implied by
 * the configured endpoint and has no field.
 */
function fromPostgresSyncedTable(table: PostgresSyncedTable, now: Date, options: MappingOptions): SyncStatus {
  const status = table.status ?? {};
  const state = stateOf(status.detailed_state, options);
  const last = status.last_sync;
  let lastSync: SyncPosition | null = null;
  if (last !== undefined) {
    lastSync = {
      sourceCommitVersion: bigIntString(last.delta_table_sync_info?.delta_commit_version),
      sourceCommitAt: timestamp(last.delta_table_sync_info?.delta_commit_time),
      startedAt: timestamp(last.sync_start_time),
      endedAt: timestamp(last.sync_end_time) ?? timestamp(status.last_sync_time),
    };
  } else if (status.last_processed_commit_version !== undefined || status.last_sync_time !== undefined) {
    lastSync = {
      sourceCommitVersion: bigIntString(status.last_processed_commit_version),
      sourceCommitAt: null,
      startedAt: null,
      endedAt: timestamp(status.last_sync_time),
    };
  }
  const message = messageWithNotes(
    status.message,
    state,
    status.provisioning_phase,
    status.unity_catalog_provisioning_state,
  );
  const tableName = table.name.startsWith(SYNCED_TABLES_PREFIX)
    ? table.name.slice(SYNCED_TABLES_PREFIX.length)
    : table.name;
  return {
    tableName,
    sourceTableName: table.spec?.source_table_full_name ?? null,
    schedulingPolicy: schedulingPolicy(table.spec?.scheduling_policy),
    state,
    message,
    pipelineId: status.pipeline_id ?? null,
    lastSync,
    progress: status.ongoing_sync_progress ? toProgress(status.ongoing_sync_progress) : null,
    stalenessSeconds: staleness(lastSync, now),
    checkedAt: now,
  };
}

/**
 * The workspace's message, with what the contract has no field for: the provisioning phase while the table
 * provisions, and the Unity Catalog entity's state when it is not ACTIVE (a first deploy whose table entity
 * FAILED would otherwise show only as a pipeline state).
 */
function messageWithNotes(
  message: string | undefined,
  state: string,
  provisioningPhase: string | undefined,
  catalogState: string | undefined,
): string | null {
  const notes = [
    message,
    state.startsWith('PROVISIONING') && provisioningPhase ? `provisioning phase ${provisioningPhase}` : undefined,
    catalogState && catalogState !== 'ACTIVE' ? `Unity Catalog table state ${catalogState}` : undefined,
  ].filter(Boolean);
  return notes.length === 0 ? null : notes.join('; ');
}

export function toSyncStatus(table: AnySyncedTable, now: Date, options: MappingOptions = {}): SyncStatus {
  return isPostgresSyncedTable(table)
    ? fromPostgresSyncedTable(table, now, options)
    : fromSyncedDatabaseTable(table, now, options);
}

/** Lakebase Provisioned (and the local emulator). */
function fromSyncedDatabaseTable(info: SyncedTableInfo, now: Date, options: MappingOptions): SyncStatus {
  const status = info.data_synchronization_status ?? {};
  const state = stateOf(status.detailed_state, options);
  const updateStatuses = [status.triggered_update_status, status.continuous_update_status, status.failed_status];
  const lastSync = status.last_sync ? toPosition(status.last_sync) : fallbackPosition(updateStatuses);
  // Whichever update is running reports progress: the initial snapshot while
  // provisioning, a triggered update, or the initial phase of a continuous one.
  const progress =
    status.provisioning_status?.initial_pipeline_sync_progress ??
    status.triggered_update_status?.triggered_update_progress ??
    status.triggered_update_status?.initial_pipeline_sync_progress ??
    status.continuous_update_status?.initial_pipeline_sync_progress;
  return {
    tableName: info.name,
    sourceTableName: info.spec?.source_table_full_name ?? null,
    schedulingPolicy: schedulingPolicy(info.spec?.scheduling_policy),
    state,
    message: messageWithNotes(
      status.message,
      state,
      progress?.provisioning_phase,
      info.unity_catalog_provisioning_state,
    ),
    pipelineId: status.pipeline_id ?? null,
    lastSync,
    progress: progress ? toProgress(progress) : null,
    stalenessSeconds: staleness(lastSync, now),
    checkedAt: now,
  };
}

/** Reports each distinct unknown detailed_state once, however often it is polled. */
export function unknownStateReporter(logger: Pick<Logger, 'warn'>): (raw: string | undefined) => void {
  const seen = new Set<string | undefined>();
  return (raw) => {
    if (seen.has(raw)) return;
    seen.add(raw);
    logger.warn(
      raw === undefined
        ? 'synced table status has no detailed_state; reporting state UNKNOWN'
        : `unknown synced table detailed_state "${raw}"; reporting state UNKNOWN`,
    );
  };
}
