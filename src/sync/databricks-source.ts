/**
 * The production SyncSource: the synced table's status from the Lakebase
 * postgres (Autoscaling) or database (Provisioned) API, and refreshes through
 * the Pipelines API of the workspace (the postgres API has no refresh call).
 */
import type { WorkspaceClient } from '@databricks/sdk-experimental';
import { describeApiFailure, httpStatusOf, type ApiCallContext } from '../databricks/api-errors.js';
import { SyncedTableReader, type SyncedTableApi, type SyncedTableApiLogger } from '../databricks/synced-table-api.js';
import { authenticateWorkspace, WorkspaceAuthError } from '../databricks/workspace-client.js';
import { SyncApiError, type SyncApiStep } from './errors.js';
import { detailedStateOf, pipelineIdOf, type AnySyncedTable, type SyncSource } from './source.js';

export { SyncApiError, type SyncApiStep } from './errors.js';

export class DatabricksSyncSource implements SyncSource {
  readonly kind = 'databricks';
  /** The pipeline of the last status read; a refresh needs it and it rarely changes. */
  private pipelineId: string | undefined;

  private readonly reader: SyncedTableReader;

  constructor(
    private readonly workspace: WorkspaceClient,
    readonly tableName: string,
    options: { api?: SyncedTableApi; logger?: SyncedTableApiLogger } = {},
  ) {
    this.reader = new SyncedTableReader(workspace, tableName, options.api ?? 'postgres', options.logger);
  }

  /** The API that answered last (or is asked first). */
  get api(): SyncedTableApi {
    return this.reader.api;
  }

  private get principal(): string {
    const clientId = this.workspace.config.clientId;
    return clientId ? `the app's service principal (${clientId})` : 'the calling identity';
  }

  async getSyncedTable(): Promise<AnySyncedTable> {
    const { table } = await this.call(
      'synced-table',
      {
        what: `reading the status of synced table "${this.tableName}"`,
        forbiddenHint: `${this.principal} needs SELECT on ${this.tableName}; add the table as an app resource (uc_securable TABLE, SELECT)`,
        notFoundHint: `no synced table "${this.tableName}" in this workspace, neither in the postgres (Autoscaling) nor in the database (Provisioned) API; check SYNCED_TABLE_NAME`,
      },
      () => this.reader.read(),
    );
    this.pipelineId = pipelineIdOf(table) ?? this.pipelineId;
    return table;
  }

  async startUpdate(options: { fullRefresh: boolean }): Promise<{ updateId: string | undefined }> {
    const knownPipeline = this.pipelineId;
    const pipelineId = knownPipeline ?? (await this.currentPipelineId());
    try {
      return await this.startPipelineUpdate(pipelineId, options.fullRefresh);
    } catch (error) {
      // A recreated synced table gets a new pipeline: re-read once and retry.
      if (knownPipeline !== undefined && error instanceof SyncApiError && error.status === 404) {
        const fresh = await this.currentPipelineId();
        if (fresh !== knownPipeline) return this.startPipelineUpdate(fresh, options.fullRefresh);
      }
      throw error;
    }
  }

  private async currentPipelineId(): Promise<string> {
    const info = await this.getSyncedTable();
    const pipelineId = pipelineIdOf(info);
    if (pipelineId === undefined || pipelineId === '') {
      throw new SyncApiError(
        'pipeline-update',
        `synced table "${this.tableName}" has no sync pipeline yet (state ${detailedStateOf(info) ?? 'unknown'}); try again once it is provisioned`,
        undefined,
      );
    }
    return pipelineId;
  }

  private async startPipelineUpdate(
    pipelineId: string,
    fullRefresh: boolean,
  ): Promise<{ updateId: string | undefined }> {
    const answer = await this.call(
      'pipeline-update',
      {
        what: `starting ${fullRefresh ? 'a full refresh' : 'an update'} of pipeline ${pipelineId} (synced table "${this.tableName}")`,
        forbiddenHint: `${this.principal} needs CAN_RUN or CAN_MANAGE on pipeline ${pipelineId}`,
        notFoundHint: `pipeline ${pipelineId} no longer exists; the synced table may have been recreated`,
        conflictHint: 'an update of this pipeline is already running; wait for it to finish',
      },
      () =>
        this.workspace.pipelines.startUpdate({ pipeline_id: pipelineId, full_refresh: fullRefresh, cause: 'API_CALL' }),
    );
    return { updateId: answer.update_id };
  }

  private async call<T>(step: SyncApiStep, context: ApiCallContext, run: () => Promise<T>): Promise<T> {
    try {
      await authenticateWorkspace(this.workspace);
    } catch (error) {
      if (error instanceof WorkspaceAuthError) {
        throw new SyncApiError('workspace-auth', error.message, undefined, { cause: error.cause });
      }
      throw error;
    }
    try {
      return await run();
    } catch (error) {
      const failure = describeApiFailure(error, context);
      throw new SyncApiError(step, failure.message, httpStatusOf(error), { cause: error });
    }
  }
}
