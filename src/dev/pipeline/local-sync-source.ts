/**
 * SyncSource for local development: reads the emulated pipeline's state and
 * queues updates on it, answering in the Databricks REST shape.
 */
import type pg from 'pg';
import type { SyncedTableInfo, SyncSource } from '../../sync/source.js';
import { pipelineNames, type PipelineNames } from './names.js';
import { errorMessage, isRunnerActive, runQueuedUpdatesIfIdle, type RunnerSettings } from './runner.js';
import { MissingSyncedTableError, readSyncedTableState } from './state.js';
import { buildSyncedTableInfo } from './status-json.js';
import { enqueueUpdate, readActiveUpdate } from './updates.js';

export interface LocalSyncSourceOptions {
  names?: Partial<PipelineNames>;
  /**
   * When no worker is running, run a started update in this process (in the
   * background, like the real API which returns before the update ends).
   * Default true; with false the update waits in the queue for a worker.
   */
  runUpdatesWithoutWorker?: boolean;
  settings?: Partial<RunnerSettings>;
  log?: (line: string) => void;
}

export class LocalSyncSource implements SyncSource {
  readonly kind = 'local-emulator';
  readonly names: PipelineNames;
  private databaseName: string | null = null;
  private background: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: LocalSyncSourceOptions = {},
  ) {
    this.names = pipelineNames(options.names);
  }

  async getSyncedTable(): Promise<SyncedTableInfo> {
    const state = await readSyncedTableState(this.pool, this.names);
    if (!state) throw new MissingSyncedTableError(this.names);
    const [activeUpdate, runnerActive, databaseName] = await Promise.all([
      readActiveUpdate(this.pool, this.names),
      state.schedulingPolicy === 'CONTINUOUS' ? isRunnerActive(this.pool, this.names) : Promise.resolve(true),
      this.currentDatabase(),
    ]);
    return buildSyncedTableInfo({ state, activeUpdate, runnerActive, databaseName, now: new Date() });
  }

  async startUpdate(options: { fullRefresh: boolean }): Promise<{ updateId: string | undefined }> {
    const state = await readSyncedTableState(this.pool, this.names);
    if (!state) throw new MissingSyncedTableError(this.names);
    const updateId = await enqueueUpdate(this.pool, this.names, { fullRefresh: options.fullRefresh });
    if (this.options.runUpdatesWithoutWorker ?? true) {
      const log = this.options.log ?? (() => undefined);
      this.background = this.background
        .then(() => runQueuedUpdatesIfIdle(this.pool, this.names, { settings: this.options.settings, log }))
        .then(
          () => undefined,
          (error: unknown) => log(`update ${updateId} failed: ${errorMessage(error)}`),
        );
    }
    return { updateId };
  }

  /** Resolves once updates this instance runs itself have finished (tests, shutdown). */
  async settled(): Promise<void> {
    await this.background;
  }

  private async currentDatabase(): Promise<string> {
    if (this.databaseName === null) {
      const { rows } = await this.pool.query<{ name: string }>('SELECT current_database() AS name');
      this.databaseName = rows[0]?.name ?? 'postgres';
    }
    return this.databaseName;
  }
}
