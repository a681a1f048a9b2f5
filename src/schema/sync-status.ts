import { SyncApiError } from '../sync/errors.js';
import { authorizeRefresh } from '../sync/refresh-authorization.js';
import { staleness } from '../sync/to-sync-status.js';
import type { SyncService } from '../sync/service.js';
import {
  SYNC_SCHEDULING_POLICIES,
  SYNCED_TABLE_STATES,
  type SyncPosition,
  type SyncProgress,
  type SyncRefresh,
  type SyncStatus,
} from '../sync/status.js';
import { builder } from './builder.js';
import type { GatewayContext } from './context.js';
import { gatewayError } from '../errors.js';

const SyncSchedulingPolicyEnum = builder.enumType('SyncSchedulingPolicy', { values: SYNC_SCHEDULING_POLICIES });

const SyncedTableStateEnum = builder.enumType('SyncedTableState', {
  description: "The synced table's detailed_state, without the SYNCED_TABLE_ prefix.",
  values: SYNCED_TABLE_STATES,
});

const SyncPositionRef = builder.objectRef<SyncPosition>('SyncPosition').implement({
  fields: (t) => ({
    sourceCommitVersion: t.field({ type: 'BigInt', nullable: true, resolve: (p) => p.sourceCommitVersion }),
    sourceCommitAt: t.field({ type: 'DateTime', nullable: true, resolve: (p) => p.sourceCommitAt }),
    startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (p) => p.startedAt }),
    endedAt: t.field({ type: 'DateTime', nullable: true, resolve: (p) => p.endedAt }),
  }),
});

const SyncProgressRef = builder.objectRef<SyncProgress>('SyncProgress').implement({
  fields: (t) => ({
    completion: t.exposeFloat('completion', { nullable: true, description: '0 to 1.' }),
    syncedRowCount: t.field({ type: 'BigInt', nullable: true, resolve: (p) => p.syncedRowCount }),
    totalRowCount: t.field({ type: 'BigInt', nullable: true, resolve: (p) => p.totalRowCount }),
    estimatedSecondsRemaining: t.exposeFloat('estimatedSecondsRemaining', { nullable: true }),
  }),
});

const SyncStatusRef = builder.objectRef<SyncStatus>('SyncStatus').implement({
  fields: (t) => ({
    tableName: t.exposeString('tableName', {
      nullable: false,
      description: 'Unity Catalog full name of the synced table, e.g. main.default.trips_synced.',
    }),
    sourceTableName: t.exposeString('sourceTableName', { nullable: true }),
    schedulingPolicy: t.field({ type: SyncSchedulingPolicyEnum, nullable: true, resolve: (s) => s.schedulingPolicy }),
    state: t.field({ type: SyncedTableStateEnum, nullable: false, resolve: (s) => s.state }),
    message: t.exposeString('message', { nullable: true }),
    pipelineId: t.exposeString('pipelineId', { nullable: true }),
    lastSync: t.field({ type: SyncPositionRef, nullable: true, resolve: (s) => s.lastSync }),
    progress: t.field({ type: SyncProgressRef, nullable: true, resolve: (s) => s.progress }),
    stalenessSeconds: t.float({
      nullable: true,
      description: 'Seconds since the last successful sync ended.',
      // At the time of the answer, not of the status read, which the gateway reuses for SYNC_STATUS_CACHE_SECONDS.
      resolve: (s) => staleness(s.lastSync, new Date()),
    }),
    checkedAt: t.field({
      type: 'DateTime',
      nullable: false,
      description: 'When the gateway last read this status.',
      resolve: (s) => s.checkedAt,
    }),
  }),
});

const SyncRefreshRef = builder.objectRef<SyncRefresh>('SyncRefresh').implement({
  fields: (t) => ({
    updateId: t.exposeString('updateId', { nullable: true, description: 'The pipeline update that was started.' }),
    status: t.field({ type: SyncStatusRef, nullable: false, resolve: (r) => r.status }),
  }),
});

function syncService(ctx: GatewayContext): SyncService {
  if (ctx.sync === null) {
    throw gatewayError(
      'SYNC_NOT_CONFIGURED',
      'Sync status is not configured on this gateway: it needs SYNCED_TABLE_NAME and Databricks credentials, ' +
        'or the local sync emulator.',
    );
  }
  return ctx.sync;
}

/**
 * The pipeline API's failure is an outage, not a bug: logged in full for the
 * operator (it names the grant or setting to fix), and reported to the client
 * with its code and the request id, without workspace details.
 */
async function reportingSyncFailures<T>(ctx: GatewayContext, action: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof SyncApiError)) throw error;
    ctx.logger.warn(`${action} failed`, { requestId: ctx.requestId, step: error.step, error: error.message });
    if (error.status === 409) {
      throw gatewayError(
        'SYNC_UPDATE_RUNNING',
        'An update of the sync pipeline is already running; try again when it has finished.',
        { requestId: ctx.requestId },
      );
    }
    throw gatewayError(
      'SYNC_UNAVAILABLE',
      `The sync pipeline is unavailable right now (${action} failed); it was logged.`,
      { requestId: ctx.requestId },
    );
  }
}

builder.queryField('syncStatus', (t) =>
  t.field({
    type: SyncStatusRef,
    nullable: false,
    description: 'Freshness of the synced table, as the sync pipeline reports it.',
    resolve: (_root, _args, ctx) =>
      reportingSyncFailures(ctx, 'reading the sync status', () => syncService(ctx).status.get()),
  }),
);

builder.mutationField('refreshSyncedTable', (t) =>
  t.field({
    type: SyncRefreshRef,
    nullable: false,
    description:
      'Starts a sync of the synced table from its source (the "Sync now" of the reference app). ' +
      'Restricted to callers allowed to operate the pipeline.',
    args: { fullRefresh: t.arg.boolean({ defaultValue: false }) },
    resolve: async (_root, { fullRefresh }, ctx) => {
      const sync = syncService(ctx);
      const caller = authorizeRefresh(ctx.request.headers, sync.admin);
      const refresh = await reportingSyncFailures(ctx, 'starting a pipeline update', () =>
        sync.status.refresh({ fullRefresh: fullRefresh ?? false }),
      );
      ctx.logger.info('synced table refresh started', {
        requestId: ctx.requestId,
        updateId: refresh.updateId,
        fullRefresh: fullRefresh ?? false,
        by: caller.via === 'identity' ? caller.principal : caller.via,
      });
      return refresh;
    },
  }),
);

builder.subscriptionField('syncStatusChanged', (t) =>
  t.field({
    type: SyncStatusRef,
    nullable: false,
    description: 'Emits the sync status whenever it changes.',
    subscribe: (_root, _args, ctx) => syncService(ctx).status.subscribe(ctx.request.signal),
    resolve: (status) => status,
  }),
);
