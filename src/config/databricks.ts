/**
 * Databricks-side configuration: how the gateway authenticates to the
 * workspace, which Lakebase database its Postgres password comes from, which
 * synced table it reports on, and who may trigger a sync. Kept apart from
 * env.ts because none of it is needed for plain Postgres or local runs.
 */
import type { SyncedTableApi } from '../databricks/synced-table-api.js';
import { ConfigError, read, type Env, type IDENTITY_HEADERS } from './variables.js';

/** Where Lakebase OAuth database credentials are requested for. */
export type LakebaseTarget =
  /** Lakebase Provisioned: POST /api/2.0/database/credentials with instance_names. */
  | { kind: 'instance'; instanceName: string }
  /** Lakebase Autoscaling: POST /api/2.0/postgres/credentials with the endpoint resource name. */
  | { kind: 'endpoint'; endpoint: string }
  /**
   * Neither configured, but a synced table is: on Autoscaling its `spec.branch`
   * leads to the branch's read-write endpoint, on Provisioned its
   * `database_instance_name` names the instance. This lets one app.yaml serve
   * every bundle target even without LAKEBASE_ENDPOINT.
   */
  | { kind: 'synced-table'; syncedTableName: string; api: SyncedTableApi };

export interface RefreshAdminConfig {
  /** Lower-cased e-mails / user ids allowed to start a sync (GATEWAY_ADMINS). */
  principals: ReadonlySet<string>;
  /** Shared secret accepted in `Authorization: Bearer` or `X-Admin-Token` (GATEWAY_ADMIN_TOKEN). */
  token: string | undefined;
  /**
   * X-Forwarded-Email / X-Forwarded-User are set by the Databricks Apps proxy;
   * anywhere else any client can send them, so they count only when trusted.
   */
  trustForwardedIdentity: boolean;
  /** Lower-cased name of the one header admins are recognised by (GATEWAY_ADMIN_IDENTITY_HEADER). */
  identityHeader: IdentityHeader;
}

/** The identity headers the Databricks Apps proxy sets (docs: "Access HTTP headers passed to Databricks apps"). */
export { IDENTITY_HEADERS } from './variables.js';
export type IdentityHeader = (typeof IDENTITY_HEADERS)[number];

export interface DatabricksConfig {
  /** Normalised to https://host unless an explicit http:// URL was given (tests). */
  host: string | undefined;
  clientId: string | undefined;
  clientSecret: string | undefined;
  /** ~/.databrickscfg profile for local runs (DATABRICKS_CONFIG_PROFILE, or DATABRICKS_PROFILE like the reference app). */
  profile: string | undefined;
  /** True when enough is set for the SDK to reach a workspace. */
  workspaceConfigured: boolean;
  lakebase: LakebaseTarget | null;
  /** Unity Catalog full name, e.g. main.default.trips_synced. */
  syncedTableName: string | undefined;
  /**
   * Which API to ask first for the synced table (SYNCED_TABLE_API): postgres
   * (Autoscaling) unless LAKEBASE_INSTANCE_NAME says Provisioned. A 404 there
   * makes the gateway try the other API once.
   */
  syncedTableApi: SyncedTableApi;
  syncStatusCacheSeconds: number;
  admin: RefreshAdminConfig;
}

/**
 * DB_IDLE_AFTER_MS when unset (db/database-activity.ts): two minutes where the compute may scale to zero (a Lakebase
 * Autoscaling endpoint, or a synced table read through the `postgres` API, which only Autoscaling serves), and never
 * elsewhere: a Provisioned instance or a plain Postgres does not suspend, and keeping rollups warm costs nothing there.
 */
export function defaultIdleAfterMs(config: Pick<DatabricksConfig, 'lakebase'>): number {
  const target = config.lakebase;
  const autoscaling = target?.kind === 'endpoint' || (target?.kind === 'synced-table' && target.api === 'postgres');
  return autoscaling ? 120_000 : 0;
}

const ENDPOINT_PATTERN = /^projects\/[^/\s]+\/branches\/[^/\s]+\/endpoints\/[^/\s]+$/;
// Three dot-separated parts, each bare or backtick-quoted as SQL writes it (`my-catalog`.default.trips).
const UC_PART = '(?:`(?:[^`]|``)+`|[^.`]+)';
const UC_FULL_NAME = new RegExp(`^(${UC_PART})\\.(${UC_PART})\\.(${UC_PART})$`);
/** What Unity Catalog refuses in an object name, even quoted: period, space, slash, ASCII control characters, DEL. */
// eslint-disable-next-line no-control-regex
const UC_FORBIDDEN = /[. /\u0000-\u001f\u007f]/;
/** Below this an admin token is guessable; refuse rather than silently accept it. */
const MIN_ADMIN_TOKEN_LENGTH = 16;

function parseHost(env: Env): string | undefined {
  const raw = read(env, 'DATABRICKS_HOST');
  if (raw === undefined) return undefined;
  // Databricks Apps sets a bare host name; the SDK assumes https for those too.
  const withScheme = /^https?:\/\//i.test(raw) ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigError('DATABRICKS_HOST', `"${raw}" is not a workspace URL (expected https://<workspace-host>)`);
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new ConfigError('DATABRICKS_HOST', `expected only the workspace URL, without a path; got "${raw}"`);
  }
  return `${url.protocol}//${url.host}`;
}

function parseProfile(env: Env): string | undefined {
  const standard = read(env, 'DATABRICKS_CONFIG_PROFILE');
  const alias = read(env, 'DATABRICKS_PROFILE');
  if (standard !== undefined && alias !== undefined && standard !== alias) {
    throw new ConfigError(
      'DATABRICKS_PROFILE',
      `conflicts with DATABRICKS_CONFIG_PROFILE ("${alias}" vs "${standard}"); set only one`,
    );
  }
  return standard ?? alias;
}

/**
 * The synced table's full name as the REST APIs take it (`synced_tables/{catalog}.{schema}.{table}`, entity
 * names unquoted). A name copied from SQL may carry backticks; they are removed here, since in a path they
 * would name another table.
 */
function parseSyncedTableName(env: Env): string | undefined {
  const name = read(env, 'SYNCED_TABLE_NAME');
  if (name === undefined) return undefined;
  const parts = UC_FULL_NAME.exec(name)?.slice(1);
  if (!parts) {
    throw new ConfigError(
      'SYNCED_TABLE_NAME',
      `expected a Unity Catalog full name catalog.schema.table (e.g. main.default.trips_synced), got "${name}"`,
    );
  }
  const names = parts.map((part) => (part.startsWith('`') ? part.slice(1, -1).replaceAll('``', '`') : part));
  const invalid = names.find((part) => UC_FORBIDDEN.test(part) || part.length > 255);
  if (invalid !== undefined) {
    throw new ConfigError(
      'SYNCED_TABLE_NAME',
      `"${invalid}" cannot be a Unity Catalog name (no period, space, slash or control character, at most 255 ` +
        `characters, even in backticks); got "${name}"`,
    );
  }
  return names.join('.');
}

function parseSyncedTableApi(env: Env): SyncedTableApi {
  return read(env, 'SYNCED_TABLE_API') ?? (read(env, 'LAKEBASE_INSTANCE_NAME') === undefined ? 'postgres' : 'database');
}

function parseLakebaseTarget(
  env: Env,
  syncedTableName: string | undefined,
  api: SyncedTableApi,
): LakebaseTarget | null {
  const instanceName = read(env, 'LAKEBASE_INSTANCE_NAME');
  const endpoint = read(env, 'LAKEBASE_ENDPOINT');
  if (instanceName !== undefined && endpoint !== undefined) {
    throw new ConfigError(
      'LAKEBASE_ENDPOINT',
      'set either LAKEBASE_INSTANCE_NAME (Lakebase Provisioned) or LAKEBASE_ENDPOINT (Lakebase Autoscaling), not both',
    );
  }
  if (endpoint !== undefined) {
    if (!ENDPOINT_PATTERN.test(endpoint)) {
      throw new ConfigError(
        'LAKEBASE_ENDPOINT',
        `expected projects/<project>/branches/<branch>/endpoints/<endpoint>, got "${endpoint}"`,
      );
    }
    return { kind: 'endpoint', endpoint };
  }
  if (instanceName !== undefined) return { kind: 'instance', instanceName };
  if (syncedTableName !== undefined) return { kind: 'synced-table', syncedTableName, api };
  return null;
}

function parseAdmin(env: Env): RefreshAdminConfig {
  const principals = new Set(
    (read(env, 'GATEWAY_ADMINS') ?? '')
      .split(',')
      .map((entry) => entry.trim().toLowerCase())
      .filter((entry) => entry !== ''),
  );
  const token = read(env, 'GATEWAY_ADMIN_TOKEN');
  if (token !== undefined && token.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new ConfigError(
      'GATEWAY_ADMIN_TOKEN',
      `must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters (e.g. \`openssl rand -hex 32\`)`,
    );
  }
  const trustForwardedIdentity =
    read(env, 'GATEWAY_TRUST_FORWARDED_IDENTITY') ?? read(env, 'DATABRICKS_APP_NAME') !== undefined;
  return { principals, token, trustForwardedIdentity, identityHeader: read(env, 'GATEWAY_ADMIN_IDENTITY_HEADER') };
}

export function loadDatabricksConfig(env: Env = process.env): DatabricksConfig {
  const host = parseHost(env);
  const clientId = read(env, 'DATABRICKS_CLIENT_ID');
  const clientSecret = read(env, 'DATABRICKS_CLIENT_SECRET');
  if (clientId !== undefined && clientSecret === undefined) {
    throw new ConfigError('DATABRICKS_CLIENT_SECRET', 'is required when DATABRICKS_CLIENT_ID is set (OAuth M2M)');
  }
  if (clientSecret !== undefined && clientId === undefined) {
    throw new ConfigError('DATABRICKS_CLIENT_ID', 'is required when DATABRICKS_CLIENT_SECRET is set (OAuth M2M)');
  }
  if (clientId !== undefined && host === undefined) {
    throw new ConfigError('DATABRICKS_HOST', 'is required with DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET');
  }
  const profile = parseProfile(env);
  const syncedTableName = parseSyncedTableName(env);
  const syncedTableApi = parseSyncedTableApi(env);
  return {
    host,
    clientId,
    clientSecret,
    profile,
    workspaceConfigured: host !== undefined || profile !== undefined,
    lakebase: parseLakebaseTarget(env, syncedTableName, syncedTableApi),
    syncedTableName,
    syncedTableApi,
    syncStatusCacheSeconds: read(env, 'SYNC_STATUS_CACHE_SECONDS'),
    admin: parseAdmin(env),
  };
}
