/**
 * Names of everything the local sync-pipeline emulation owns. One source table
 * (standing in for the Unity Catalog Delta table) per source schema, because its
 * change feed tables are called plainly `commits` and `changes`.
 */
import { qualified, quoteIdent } from '../../db/sql-identifiers.js';

export type SchedulingPolicy = 'SNAPSHOT' | 'TRIGGERED' | 'CONTINUOUS';
export const SCHEDULING_POLICIES: readonly SchedulingPolicy[] = ['SNAPSHOT', 'TRIGGERED', 'CONTINUOUS'];

export function parseSchedulingPolicy(raw: string, inputName: string): SchedulingPolicy {
  const policy = SCHEDULING_POLICIES.find((candidate) => candidate === raw.trim().toUpperCase());
  if (!policy) throw new Error(`${inputName}: expected one of ${SCHEDULING_POLICIES.join(', ')}, got "${raw}"`);
  return policy;
}

export interface PipelineNames {
  /** Catalog used to build the Unity Catalog style names reported in the status JSON. */
  catalog: string;
  sourceSchema: string;
  sourceTable: string;
  syncedSchema: string;
  syncedTable: string;
  /** Schema holding the pipeline's own state (status row, update queue, history). */
  pipelineSchema: string;
}

export const DEFAULT_PIPELINE_NAMES: Readonly<PipelineNames> = {
  catalog: 'main',
  sourceSchema: 'lakebase_dev_source',
  sourceTable: 'trips',
  syncedSchema: 'default',
  syncedTable: 'trips_synced',
  pipelineSchema: 'lakebase_dev_pipeline',
};

export function pipelineNames(overrides: Partial<PipelineNames> = {}): PipelineNames {
  const names = { ...DEFAULT_PIPELINE_NAMES };
  for (const [key, value] of Object.entries(overrides) as [keyof PipelineNames, string | undefined][]) {
    if (value !== undefined) names[key] = value;
  }
  return names;
}

export { TRIP_COLUMNS, TRIP_DATA_COLUMNS } from '../../db/tables.js';

/** The source table writes a row here, from its commit trigger, for each committed version. */
export const SOURCE_COMMIT_CHANNEL = 'lakebase_dev_source_commit';
/** startUpdate() notifies here so a running worker picks the queued update up at once. */
export const PIPELINE_UPDATE_CHANNEL = 'lakebase_dev_pipeline_update';

export interface Relations {
  source: string;
  commits: string;
  changes: string;
  pendingCommits: string;
  synced: string;
  syncedTables: string;
  updates: string;
  updateProgress: string;
  history: string;
  applyPlan: string;
}

export function relations(names: PipelineNames): Relations {
  return {
    source: qualified(names.sourceSchema, names.sourceTable),
    commits: qualified(names.sourceSchema, 'commits'),
    changes: qualified(names.sourceSchema, 'changes'),
    pendingCommits: qualified(names.sourceSchema, 'pending_commits'),
    synced: qualified(names.syncedSchema, names.syncedTable),
    syncedTables: qualified(names.pipelineSchema, 'synced_tables'),
    updates: qualified(names.pipelineSchema, 'updates'),
    updateProgress: qualified(names.pipelineSchema, 'update_progress'),
    history: qualified(names.pipelineSchema, 'sync_history'),
    applyPlan: qualified(names.pipelineSchema, 'apply_plan'),
  };
}

export function syncedTableFullName(names: PipelineNames): string {
  return `${names.catalog}.${names.syncedSchema}.${names.syncedTable}`;
}

export function sourceTableFullName(names: PipelineNames): string {
  return `${names.catalog}.${names.sourceSchema}.${names.sourceTable}`;
}

export const columnList = (columns: readonly string[], prefix = ''): string =>
  columns.map((column) => `${prefix}${quoteIdent(column)}`).join(', ');

export { quoteLiteral as literal } from '../../db/sql-identifiers.js';
