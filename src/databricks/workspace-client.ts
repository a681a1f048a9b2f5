/**
 * The one place that builds the SDK's WorkspaceClient from DatabricksConfig.
 * On Databricks Apps that means OAuth M2M with the app's service principal
 * (DATABRICKS_HOST/CLIENT_ID/CLIENT_SECRET); locally, a CLI profile.
 */
import { WorkspaceClient, type ConfigOptions } from '@databricks/sdk-experimental';
import type { DatabricksConfig } from '../config/databricks.js';
import { ConfigError } from '../config/env.js';
import { describeWorkspaceAuthFailure } from './api-errors.js';
import { guardWorkspaceHost } from './workspace-http-guard.js';

export interface WorkspaceClientOptions {
  /**
   * Environment the SDK may read further settings from (DATABRICKS_TOKEN,
   * DATABRICKS_CONFIG_FILE, ...). Tests pass {} so a developer's shell cannot leak in.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * How long the SDK keeps retrying 429s. Its default (300 s) would hold a new
   * database connection for five minutes; a short bound fails fast and lets the
   * next connection attempt retry.
   */
  retryTimeoutSeconds?: number;
  /** How long a request to the workspace may go without an answer (workspace-http-guard.ts); tests shorten it. */
  httpTimeoutMs?: number;
}

export function createWorkspaceClient(config: DatabricksConfig, options: WorkspaceClientOptions = {}): WorkspaceClient {
  if (!config.workspaceConfigured) {
    throw new ConfigError(
      'DATABRICKS_HOST',
      'no Databricks workspace configured: set DATABRICKS_HOST with DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET, or DATABRICKS_CONFIG_PROFILE',
    );
  }
  // The SDK's own fetch (OIDC discovery, the OAuth token exchange) reads this from process.env itself, whatever
  // environment it is given: "false" sent the client secret to any server at DATABRICKS_HOST. The Databricks
  // extension for VS Code sets it in the terminals it starts.
  if (process.env.DATABRICKS_SDK_PROXY_STRICT_SSL?.trim().toLowerCase() === 'false') {
    throw new ConfigError(
      'DATABRICKS_SDK_PROXY_STRICT_SSL',
      '"false" would turn off the certificate check of the OAuth token exchange, which carries the client ' +
        "secret: unset it (a TLS-inspecting proxy's CA goes in NODE_EXTRA_CA_CERTS instead)",
    );
  }
  const settings: ConfigOptions = {
    retryTimeoutSeconds: options.retryTimeoutSeconds ?? 30,
    env: { ...(options.env ?? process.env) },
    // The SDK's API client builds its HTTPS agent with `rejectUnauthorized: skipVerify === false`, and skipVerify
    // has no default: left unset, no REST call checked the workspace's certificate (the OAuth token exchange,
    // made without that agent, did), so whoever answered the TLS handshake for DATABRICKS_HOST got the bearer
    // token of every credential, synced-table and pipeline call, and could hand back a database password of its
    // choosing. No setting of ours turns verification off.
    skipVerify: false,
  };
  // Only set what is configured: the SDK treats a present key as "explicitly
  // configured" and would skip its own environment / config-file resolution.
  if (config.host !== undefined) settings.host = config.host;
  if (config.profile !== undefined) settings.profile = config.profile;
  if (config.clientId !== undefined && config.clientSecret !== undefined) {
    settings.clientId = config.clientId;
    settings.clientSecret = config.clientSecret;
    // Naming the auth type makes a failure read as an OAuth M2M failure
    // rather than "cannot configure default credentials".
    settings.authType = 'oauth-m2m';
  }
  const workspace = new WorkspaceClient(settings, { product: 'lakebase-graphql', productVersion: '0.1.0' });
  // Redirects refused and silent requests ended, on every request to the workspace (workspace-http-guard.ts).
  // A profile names its host only once the SDK has read it, which it does before any request.
  if (config.host !== undefined) guardWorkspaceHost(config.host, options.httpTimeoutMs);
  else {
    void workspace.config
      .getHost()
      .then((host) => guardWorkspaceHost(host.toString(), options.httpTimeoutMs))
      .catch(() => undefined);
  }
  return workspace;
}

/** Raised when the SDK cannot obtain a workspace OAuth token; the message says what to check. */
export class WorkspaceAuthError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WorkspaceAuthError';
  }
}

/**
 * Runs the SDK's authentication on its own, before an API call, so that a
 * failure can be told apart from a failure of the call itself. The SDK caches
 * its OAuth token, so this costs a request only when the token needs renewal.
 */
export async function authenticateWorkspace(workspace: WorkspaceClient): Promise<void> {
  try {
    await workspace.config.authenticate(new Headers());
  } catch (error) {
    throw new WorkspaceAuthError(describeWorkspaceAuthFailure(error, workspace.config.host), { cause: error });
  }
}
