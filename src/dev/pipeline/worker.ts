/**
 * The long-running sync worker: the local stand-in for the Lakeflow pipeline
 * behind a synced table. It holds one control connection (runner lock, LISTEN,
 * status and progress writes) and borrows another from the pool for each apply
 * transaction. Any connection failure ends the pass; the loop reconnects with
 * backoff and resumes from the version recorded in the database.
 */
import type pg from 'pg';
import {
  PIPELINE_UPDATE_CHANNEL,
  pipelineNames,
  SOURCE_COMMIT_CHANNEL,
  syncedTableFullName,
  type PipelineNames,
  type SchedulingPolicy,
} from './names.js';
import { preparePipeline } from './prepare.js';
import { ensureSyncedTableState } from './state.js';
import {
  DEFAULT_RUNNER_SETTINGS,
  errorMessage,
  releaseRunnerLock,
  runPass,
  tryAcquireRunnerLock,
  type RunnerContext,
  type RunnerSettings,
} from './runner.js';
import { DEFAULT_CHANGE_RETENTION_MS, expireChangeData } from './retention.js';
import { requeueInterruptedUpdates } from './updates.js';

export interface SyncWorkerOptions {
  names?: Partial<PipelineNames>;
  /** Switches the synced table to this policy on start; otherwise the registered policy is kept. */
  policy?: SchedulingPolicy;
  /** How often to look for work without being woken: the CONTINUOUS cadence. Lakebase's is about 15 s. */
  intervalMs?: number;
  /** Under CONTINUOUS, apply as soon as the source commits (LISTEN), instead of waiting for the interval. */
  wakeOnSourceCommit?: boolean;
  /**
   * Drops the source's change data once it is this old (retention.ts); null keeps it forever.
   * Default 7 days, as Delta. Checked on the first pass and then at most hourly.
   */
  changeRetentionMs?: number | null;
  /** First delay before retrying after a failure; doubles up to maxRetryDelayMs. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  settings?: Partial<RunnerSettings>;
  log?: (line: string) => void;
}

export class WorkerAlreadyRunningError extends Error {
  constructor(names: PipelineNames) {
    super(
      `another pipeline worker already runs for ${syncedTableFullName(names)} (it holds the runner lock): ` +
        '`npm start` runs one, with the policy LOCAL_SYNC_POLICY sets (CONTINUOUS unless set); stop it, or restart ' +
        'it with another LOCAL_SYNC_POLICY, or stop the other `npm run data -- pipeline`',
    );
    this.name = 'WorkerAlreadyRunningError';
  }
}

export class SyncWorker {
  readonly names: PipelineNames;
  private readonly intervalMs: number;
  private readonly wakeOnSourceCommit: boolean;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly changeRetentionMs: number | null;
  private nextExpiryAt = 0;
  private readonly settings: RunnerSettings;
  private readonly log: (line: string) => void;
  private control: pg.PoolClient | null = null;
  private controlBroken = false;
  /** A connection failed somewhere; check the control connection before trusting it again. */
  private controlSuspect = false;
  private stopped = true;
  private loop: Promise<void> | null = null;
  private pendingWake = false;
  private wakeUp: (() => void) | null = null;
  private passes = 0;
  private readonly onPoolError = (error: Error) => this.log(`idle pipeline connection lost: ${error.message}`);

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: SyncWorkerOptions = {},
  ) {
    this.names = pipelineNames(options.names);
    this.intervalMs = options.intervalMs ?? 15_000;
    this.wakeOnSourceCommit = options.wakeOnSourceCommit ?? true;
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
    this.changeRetentionMs =
      options.changeRetentionMs === undefined ? DEFAULT_CHANGE_RETENTION_MS : options.changeRetentionMs;
    this.settings = { ...DEFAULT_RUNNER_SETTINGS, ...options.settings };
    this.log = options.log ?? (() => undefined);
    // One connection for control, one for applying.
    if ((pool.options.max ?? 10) < 2) throw new Error('SyncWorker: the pool needs max >= 2 connections');
  }

  /** Number of completed passes; lets callers wait for "the worker has looked since X" without sleeping. */
  get completedPasses(): number {
    return this.passes;
  }

  /**
   * Prepares the tables, takes the runner lock and starts the loop in the
   * background. Rejects if another worker runs for the same synced table.
   */
  async start(): Promise<void> {
    if (!this.stopped) return;
    await preparePipeline(this.pool, this.names);
    this.pool.on('error', this.onPoolError);
    this.stopped = false;
    try {
      await this.ensureControl();
      // Only once the lock is ours: a worker refused here must not switch the running one's policy.
      if (this.options.policy) await ensureSyncedTableState(this.pool, this.names, this.options.policy);
    } catch (error) {
      this.stopped = true;
      await this.closeControl();
      this.pool.off('error', this.onPoolError);
      throw error;
    }
    this.loop = this.run();
  }

  /** Stops after the current pass; releases the lock and the control connection. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake();
    await this.loop;
    this.loop = null;
    await this.closeControl();
    this.pool.off('error', this.onPoolError);
  }

  /** Asks for a pass now (as a source commit or a queued update does through NOTIFY). */
  wake(): void {
    this.pendingWake = true;
    this.wakeUp?.();
  }

  private async run(): Promise<void> {
    let delay = this.retryDelayMs;
    while (!this.stopped) {
      try {
        const control = await this.ensureControl();
        const ctx: RunnerContext = {
          pool: this.pool,
          control,
          names: this.names,
          settings: this.settings,
          log: this.log,
        };
        // Keep going while passes finish updates: more may have queued meanwhile.
        while (!this.stopped && (await runPass(ctx)).completed.length > 0);
        await this.expireChangeData();
        this.passes++;
        delay = this.retryDelayMs;
      } catch (error) {
        if (this.stopped) break;
        this.log(`${syncedTableFullName(this.names)}: ${errorMessage(error)}; retrying in ${delay} ms`);
        if (isConnectionError(error)) this.controlSuspect = true;
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.maxRetryDelayMs);
        continue;
      }
      await this.sleep(this.intervalMs);
    }
  }

  /** After a pass, so a table the pass brought level is past what expires (and needs no snapshot for it). */
  private async expireChangeData(): Promise<void> {
    if (this.changeRetentionMs === null || Date.now() < this.nextExpiryAt) return;
    const expired = await expireChangeData(this.pool, this.names, this.changeRetentionMs);
    this.nextExpiryAt = Date.now() + Math.min(this.changeRetentionMs, 3_600_000);
    if (expired.versions > 0) {
      this.log(
        `${syncedTableFullName(this.names)}: dropped the change data of ${expired.versions} source versions ` +
          `older than the retention (${expired.rows} row changes)`,
      );
    }
  }

  private async ensureControl(): Promise<pg.PoolClient> {
    if (this.control && !this.controlBroken && this.controlSuspect) {
      this.controlSuspect = false;
      await this.control.query('SELECT 1').catch(() => {
        this.controlBroken = true;
      });
    }
    if (this.control && !this.controlBroken) return this.control;
    await this.closeControl();
    const client = await this.pool.connect();
    client.on('error', this.onControlError);
    client.on('notification', this.onNotification);
    try {
      if (!(await tryAcquireRunnerLock(client, this.names))) throw new WorkerAlreadyRunningError(this.names);
      await client.query(`LISTEN ${PIPELINE_UPDATE_CHANNEL}`);
      if (this.wakeOnSourceCommit) await client.query(`LISTEN ${SOURCE_COMMIT_CHANNEL}`);
      // A previous runner may have died mid-update; this one now owns the queue.
      await requeueInterruptedUpdates(client, this.names, this.settings.maxAttempts);
    } catch (error) {
      client.off('notification', this.onNotification);
      client.off('error', this.onControlError);
      // Not broken when only the lock was taken by someone else; UNLISTEN before reuse anyway.
      client.release(true);
      throw error;
    }
    this.control = client;
    this.controlBroken = false;
    return client;
  }

  private async closeControl(): Promise<void> {
    const client = this.control;
    if (!client) return;
    this.control = null;
    let broken = this.controlBroken;
    if (!broken) {
      try {
        await client.query('UNLISTEN *');
        await releaseRunnerLock(client, this.names);
      } catch {
        broken = true;
      }
    }
    // The connection may go back to the pool: it must not keep this worker's listeners.
    client.off('notification', this.onNotification);
    if (broken) {
      client.release(true);
      client.off('error', this.onControlError);
    } else {
      client.off('error', this.onControlError);
      client.release();
    }
  }

  private readonly onControlError = (error: Error): void => {
    this.log(`${syncedTableFullName(this.names)}: control connection lost: ${error.message}`);
    this.controlBroken = true;
    this.wake();
  };

  private readonly onNotification = (message: pg.Notification): void => {
    let payload: { schema?: unknown; table?: unknown };
    try {
      payload = JSON.parse(message.payload ?? '{}') as { schema?: unknown; table?: unknown };
    } catch {
      return;
    }
    const ours =
      message.channel === SOURCE_COMMIT_CHANNEL
        ? payload.schema === this.names.sourceSchema && payload.table === this.names.sourceTable
        : payload.schema === this.names.syncedSchema && payload.table === this.names.syncedTable;
    if (ours) this.wake();
  };

  private sleep(ms: number): Promise<void> {
    if (this.pendingWake || this.stopped) {
      this.pendingWake = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        this.pendingWake = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}

/** Errors after which the connection cannot be trusted (server gone, socket closed, admin termination). */
export function isConnectionError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : '';
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection is closed|Client has encountered a connection error/i.test(message);
}
