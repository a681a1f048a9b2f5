/**
 * Reads a synced table from whichever Lakebase API holds it:
 * - `postgres` (Lakebase Autoscaling, every database created since March 2026):
 *   GET /api/2.0/postgres/synced_tables/{name};
 * - `database` (Lakebase Provisioned instances): GET /api/2.0/database/synced_tables/{name}.
 * The configuration picks the first one to ask; when it answers 404 for the
 * table, the other is asked once, and the one that answered is remembered and
 * logged. @databricks/sdk-experimental 0.17 has no postgres service, so that
 * call goes through the SDK's API client (auth, retries and error parsing included).
 */
import type { WorkspaceClient } from '@databricks/sdk-experimental';
import type { AnySyncedTable, PostgresSyncedTable, SyncedTableInfo } from '../sync/source.js';
import type { Logger } from '../logger.js';
import { httpStatusOf } from './api-errors.js';

export type SyncedTableApi = 'postgres' | 'database';

export const SYNCED_TABLE_APIS: readonly SyncedTableApi[] = ['postgres', 'database'];

/** Where the reader says which API answered (the gateway's logger). */
export type SyncedTableApiLogger = Pick<Logger, 'info'>;

const JSON_HEADERS = { Accept: 'application/json', 'Content-Type': 'application/json' };

/** A UC name goes into the path as is (dots stay); each part is escaped, as a URL segment must be. */
function pathName(tableName: string): string {
  return tableName
    .split('.')
    .map((part) => encodeURIComponent(part))
    .join('.');
}

export async function getPostgresSyncedTable(
  workspace: WorkspaceClient,
  tableName: string,
): Promise<PostgresSyncedTable> {
  const answer = await workspace.apiClient.request({
    path: `/api/2.0/postgres/synced_tables/${pathName(tableName)}`,
    method: 'GET',
    headers: new Headers(JSON_HEADERS),
    raw: false,
  });
  return answer as PostgresSyncedTable;
}

function otherApi(api: SyncedTableApi): SyncedTableApi {
  return api === 'postgres' ? 'database' : 'postgres';
}

export class SyncedTableReader {
  private current: SyncedTableApi;

  constructor(
    private readonly workspace: WorkspaceClient,
    readonly tableName: string,
    preferred: SyncedTableApi,
    private readonly logger: SyncedTableApiLogger | undefined = undefined,
  ) {
    this.current = preferred;
  }

  /** The API asked first next time: the configured one until the other answered instead. */
  get api(): SyncedTableApi {
    return this.current;
  }

  /** Throws the first API's 404 when neither knows the table. */
  async read(): Promise<{ api: SyncedTableApi; table: AnySyncedTable }> {
    const first = this.current;
    try {
      return { api: first, table: await this.readFrom(first) };
    } catch (error) {
      if (httpStatusOf(error) !== 404) throw error;
      const second = otherApi(first);
      let table: AnySyncedTable;
      try {
        table = await this.readFrom(second);
      } catch (fallbackError) {
        // Neither knows the table: the configured API's 404 is the answer to report.
        throw httpStatusOf(fallbackError) === 404 ? error : fallbackError;
      }
      this.current = second;
      this.logger?.info(
        `synced table answered by the ${second} API (the ${first} API answered 404); using it from now on`,
        {
          table: this.tableName,
          api: second,
          path: apiPath(second, this.tableName),
        },
      );
      return { api: second, table };
    }
  }

  private readFrom(api: SyncedTableApi): Promise<AnySyncedTable> {
    return api === 'postgres'
      ? getPostgresSyncedTable(this.workspace, this.tableName)
      : (this.workspace.database.getSyncedDatabaseTable({ name: this.tableName }) as Promise<SyncedTableInfo>);
  }
}

export function apiPath(api: SyncedTableApi, tableName: string): string {
  return api === 'postgres'
    ? `/api/2.0/postgres/synced_tables/${tableName}`
    : `/api/2.0/database/synced_tables/${tableName}`;
}
