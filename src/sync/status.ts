/**
 * The contract's sync types (SyncStatus, SyncPosition, SyncProgress) as plain
 * TypeScript, independent of where the status came from. DateTime fields are
 * Date; BigInt fields are decimal strings, as the contract serializes them.
 */

export const SYNCED_TABLE_STATES = [
  'OFFLINE',
  'OFFLINE_FAILED',
  'ONLINE',
  'ONLINE_CONTINUOUS_UPDATE',
  'ONLINE_NO_PENDING_UPDATE',
  'ONLINE_PIPELINE_FAILED',
  'ONLINE_TRIGGERED_UPDATE',
  'ONLINE_UPDATING_PIPELINE_RESOURCES',
  'PROVISIONING',
  'PROVISIONING_INITIAL_SNAPSHOT',
  'PROVISIONING_PIPELINE_RESOURCES',
  'UNKNOWN',
] as const;
export type SyncedTableState = (typeof SYNCED_TABLE_STATES)[number];

export const SYNC_SCHEDULING_POLICIES = ['SNAPSHOT', 'TRIGGERED', 'CONTINUOUS'] as const;
export type SyncSchedulingPolicy = (typeof SYNC_SCHEDULING_POLICIES)[number];

export interface SyncPosition {
  /** Delta commit version of the source table (BigInt). */
  sourceCommitVersion: string | null;
  sourceCommitAt: Date | null;
  startedAt: Date | null;
  endedAt: Date | null;
}

export interface SyncProgress {
  /** 0 to 1. */
  completion: number | null;
  syncedRowCount: string | null;
  totalRowCount: string | null;
  estimatedSecondsRemaining: number | null;
}

export interface SyncStatus {
  /** Unity Catalog full name of the synced table. */
  tableName: string;
  sourceTableName: string | null;
  schedulingPolicy: SyncSchedulingPolicy | null;
  state: SyncedTableState;
  message: string | null;
  pipelineId: string | null;
  lastSync: SyncPosition | null;
  progress: SyncProgress | null;
  /** Seconds since the last successful sync ended. */
  stalenessSeconds: number | null;
  /** When the gateway read this status from the pipeline. */
  checkedAt: Date;
}

export interface SyncRefresh {
  updateId: string | null;
  status: SyncStatus;
}
