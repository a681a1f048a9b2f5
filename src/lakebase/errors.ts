/**
 * Getting a Lakebase connection crosses three systems, and "password
 * authentication failed" alone does not say which one to fix. Every failure on
 * that path becomes a LakebaseConnectionError whose `step` names the system and
 * whose message says what to check there.
 */

export type ConnectionStep =
  /** OIDC discovery or the client-credentials token endpoint of the workspace. */
  | 'workspace-auth'
  /** The Lakebase credential API (database/credentials, postgres/credentials). */
  | 'credential-api'
  /** Reaching the Postgres host at all (DNS, TCP, TLS). */
  | 'postgres-connect'
  /** Postgres accepted the connection but refused the login. */
  | 'postgres-login';

export class LakebaseConnectionError extends Error {
  constructor(
    readonly step: ConnectionStep,
    message: string,
    /** HTTP status of the failed API call, or the Postgres SQLSTATE. */
    readonly status: number | string | undefined,
    options?: { cause?: unknown },
  ) {
    super(`[${step}] ${message}`, options);
    this.name = 'LakebaseConnectionError';
  }
}
