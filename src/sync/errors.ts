/**
 * A failed call to the sync pipeline's API (the workspace's Database and
 * Pipelines APIs in production). Part of the SyncSource port, not of the
 * Databricks adapter, so the schema can tell an outage from a bug without
 * importing the adapter.
 */
export type SyncApiStep = 'workspace-auth' | 'synced-table' | 'pipeline-update';

export class SyncApiError extends Error {
  constructor(
    readonly step: SyncApiStep,
    message: string,
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SyncApiError';
  }
}
