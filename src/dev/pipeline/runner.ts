/**
 * One pass of pipeline work: run the queued updates (startUpdate) and, under
 * the CONTINUOUS policy, catch up with the source. Only the holder of the
 * runner lock (a session advisory lock per synced table) runs passes, so a
 * foreground worker, the dev gateway and `npm run data -- sync` never race;
 * correctness does not depend on it though (see apply.ts).
 */
import type pg from 'pg';
import { applySnapshot, type ApplyContext, type StateAfter } from './apply.js';
import { applyIncrementalBatchConcurrently } from './concurrent-apply.js';
import { headVersion } from './change-feed.js';
import { literal, syncedTableFullName, type PipelineNames } from './names.js';
import { idleState, MissingSyncedTableError, readSyncedTableState, recordFailure, setDetailedState } from './state.js';
import {
  claimQueuedUpdates,
  failUpdates,
  reportUpdateProgress,
  requeueInterruptedUpdates,
  type PipelineUpdate,
} from './updates.js';
import type { Queryable } from './sql.js';
import { checkout } from './transaction.js';

export interface RunnerSettings {
  /** Rows per INSERT during a snapshot (progress is published between chunks). */
  snapshotChunkRows: number;
  /** Source versions applied per transaction by an incremental sync. */
  maxVersionsPerBatch: number;
  /** Attempts per update before it is marked FAILED. */
  maxAttempts: number;
  /**
   * Connections a CONTINUOUS incremental batch is written over at once (concurrent-apply.ts), as a real
   * pipeline's writers: commits then reach the synced table out of key order. At most the pool's size
   * less the control connection; 1 writes each batch in one transaction.
   */
  continuousWriters: number;
}

export const DEFAULT_RUNNER_SETTINGS: RunnerSettings = {
  snapshotChunkRows: 50_000,
  maxVersionsPerBatch: 1_000,
  maxAttempts: 5,
  continuousWriters: 4,
};

export interface RunnerContext {
  pool: pg.Pool;
  /** Connection holding the runner lock; also carries progress and status writes, outside the apply transaction. */
  control: pg.ClientBase;
  names: PipelineNames;
  settings: RunnerSettings;
  log: (line: string) => void;
}

export interface PassResult {
  /** Updates finished in this pass. */
  completed: string[];
  /** Source version the synced table reflects after the pass. */
  version: number | null;
}

const runnerKey = (names: PipelineNames): string =>
  `hashtext('lakebase_dev_runner'), hashtext(${literal(`${names.syncedSchema}.${names.syncedTable}`)})`;

export async function tryAcquireRunnerLock(client: pg.ClientBase, names: PipelineNames): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>(
    `SELECT pg_try_advisory_lock(${runnerKey(names)}) AS locked`,
  );
  return rows[0]?.locked === true;
}

export async function releaseRunnerLock(client: pg.ClientBase, names: PipelineNames): Promise<void> {
  await client.query(`SELECT pg_advisory_unlock(${runnerKey(names)})`);
}

/** Whether some session (a worker, or an inline runner) currently holds the runner lock. */
export async function isRunnerActive(db: Queryable, names: PipelineNames): Promise<boolean> {
  // Two-key advisory locks show up in pg_locks as classid/objid with objsubid 2.
  const { rows } = await db.query<{ active: boolean }>(
    `SELECT EXISTS (
       SELECT FROM pg_locks l, LATERAL (SELECT ${runnerKey(names)}) AS k(k1, k2)
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
          AND l.classid = k.k1::oid AND l.objid = k.k2::oid
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())) AS active`,
  );
  return rows[0]?.active === true;
}

/** Runs one pass. The caller must hold the runner lock on ctx.control. */
export async function runPass(ctx: RunnerContext): Promise<PassResult> {
  const { names, control } = ctx;
  const state = await readSyncedTableState(control, names);
  if (!state) throw new MissingSyncedTableError(names);
  const updates = await claimQueuedUpdates(control, names);
  const continuous = state.schedulingPolicy === 'CONTINUOUS';
  const initial = state.lastProcessedVersion === null;
  if (updates.length === 0 && !continuous && !initial) return { completed: [], version: state.lastProcessedVersion };

  const ids = updates.map((update) => update.updateId);
  const snapshot =
    initial ||
    updates.some((update) => update.fullRefresh) ||
    (state.schedulingPolicy === 'SNAPSHOT' && ids.length > 0);
  if (initial) {
    await setDetailedState(
      control,
      names,
      'SYNCED_TABLE_PROVISIONING_INITIAL_SNAPSHOT',
      'Copying the initial snapshot.',
    );
  } else if (!continuous && ids.length > 0) {
    await setDetailedState(control, names, 'SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE', describeUpdates(updates, snapshot));
  }

  const apply: ApplyContext = {
    pool: ctx.pool,
    names,
    updateIds: ids,
    onProgress: async (progress) => {
      // Progress is informative only: a failure to publish it must not abort the sync.
      try {
        await reportUpdateProgress(control, names, ids, progress);
      } catch (error) {
        ctx.log(`could not publish progress for ${syncedTableFullName(names)}: ${errorMessage(error)}`);
      }
    },
  };
  const restingState = idleState(state.schedulingPolicy);
  try {
    let version: number;
    if (snapshot) {
      version = await runSnapshot(ctx, apply, restingState);
    } else {
      version = await catchUp(ctx, apply, restingState, ids.length > 0, continuous);
    }
    return { completed: ids, version };
  } catch (error) {
    const message = `Sync of ${syncedTableFullName(names)} failed: ${errorMessage(error)}`;
    // Best effort: when the database itself is gone these fail too, and the
    // next runner requeues the updates left RUNNING.
    await failUpdates(control, names, ids, message, ctx.settings.maxAttempts).catch(() => undefined);
    await recordFailure(control, names, message).catch(() => undefined);
    throw error;
  }
}

async function runSnapshot(ctx: RunnerContext, apply: ApplyContext, restingState: string): Promise<number> {
  const result = await applySnapshot(apply, {
    chunkRows: ctx.settings.snapshotChunkRows,
    stateAfter: (version) => ({
      detailedState: restingState,
      message: `Snapshot of source version ${version} copied.`,
      final: true,
    }),
  });
  ctx.log(
    `${syncedTableFullName(ctx.names)}: snapshot of source version ${result.toVersion} (${result.rowsCopied} rows)`,
  );
  return result.toVersion;
}

/** Applies every version committed up to now, in batches; falls back to a snapshot when the feed cannot serve. */
async function catchUp(
  ctx: RunnerContext,
  apply: ApplyContext,
  restingState: string,
  explicitUpdate: boolean,
  continuous: boolean,
): Promise<number> {
  const head = await headVersion(ctx.pool, ctx.names);
  const stateAfter: StateAfter = (version) =>
    version >= head
      ? { detailedState: restingState, message: `Synced to source version ${version}.`, final: true }
      : {
          detailedState: continuous ? restingState : 'SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE',
          message: `Applied source version ${version} of ${head}.`,
          final: false,
        };
  // The control connection stays checked out: the writers share the rest of the pool.
  const writers = continuous
    ? Math.max(1, Math.min(ctx.settings.continuousWriters, (ctx.pool.options.max ?? 10) - 1))
    : 1;
  for (;;) {
    const result = await applyIncrementalBatchConcurrently(
      apply,
      {
        upTo: head,
        maxVersions: ctx.settings.maxVersionsPerBatch,
        stateAfter,
        recordWhenUpToDate: explicitUpdate,
      },
      writers,
    );
    if (result.kind === 'needs-snapshot') {
      ctx.log(`${syncedTableFullName(ctx.names)}: ${result.reason}; running a snapshot instead`);
      return runSnapshot(ctx, apply, restingState);
    }
    if (result.kind === 'up-to-date') return result.version;
    ctx.log(
      `${syncedTableFullName(ctx.names)}: applied source versions ${result.fromVersion + 1}..${result.toVersion} ` +
        `(${result.rowsChanged} rows)`,
    );
    if (result.toVersion >= head) return result.toVersion;
    // Later batches of an explicit update have nothing left to record when up to date.
    explicitUpdate = false;
  }
}

function describeUpdates(updates: readonly PipelineUpdate[], snapshot: boolean): string {
  const what = snapshot ? 'full refresh' : 'incremental update';
  return `Running ${what} ${updates.map((update) => update.updateId).join(', ')}.`;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs the queued updates right here when no runner holds the lock (no worker
 * is running). Returns false, doing nothing, when a runner is active: it will
 * pick the updates up itself.
 */
export async function runQueuedUpdatesIfIdle(
  pool: pg.Pool,
  names: PipelineNames,
  options: { settings?: Partial<RunnerSettings>; log?: (line: string) => void } = {},
): Promise<boolean> {
  const { client: control, release } = await checkout(pool);
  let broken: unknown;
  try {
    if (!(await tryAcquireRunnerLock(control, names))) return false;
    const ctx: RunnerContext = {
      pool,
      control,
      names,
      // No retries inline: nobody would be left to retry once this returns.
      settings: { ...DEFAULT_RUNNER_SETTINGS, maxAttempts: 1, ...options.settings },
      log: options.log ?? (() => undefined),
    };
    try {
      await requeueInterruptedUpdates(control, names, ctx.settings.maxAttempts);
      for (;;) {
        const pass = await runPass(ctx);
        if (pass.completed.length === 0) break;
      }
    } finally {
      await releaseRunnerLock(control, names);
    }
    return true;
  } catch (error) {
    broken = error;
    throw error;
  } finally {
    release(broken);
  }
}
