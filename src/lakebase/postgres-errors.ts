/**
 * Explains why a new Postgres connection failed, in terms of what to change:
 * the role, the database, the network, SSL, or (for OAuth) the token's identity.
 * Used for startup logs and for /ready, which reports not-ready with this text.
 */
import { NETWORK_CODES } from '../db/sql-state.js';
import { LakebaseConnectionError } from './errors.js';

export interface ConnectionTarget {
  host: string;
  port: number;
  user: string;
  database: string;
  /** How the password was obtained; changes what a rejected password means. */
  passwordSource: 'oauth' | 'static' | 'none';
  sslMode: string;
}

function codeOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

// With password authentication Postgres answers 28P01 for a missing role too,
// so as not to reveal which roles exist; the hints cover both causes.
function rejectedPassword(target: ConnectionTarget): string {
  switch (target.passwordSource) {
    case 'oauth':
      return (
        `Postgres rejected the OAuth token as password of role "${target.user}": PGUSER must be the identity ` +
        `the token was issued to (the app's service principal client id, or your e-mail for a CLI profile), ` +
        `and that role must exist as an OAuth role of this instance (adding the database as an app resource creates it)`
      );
    case 'static':
      return `Postgres rejected the password of role "${target.user}" (or the role does not exist); check PGUSER and PGPASSWORD / DATABASE_URL`;
    case 'none':
      return (
        `Postgres asked role "${target.user}" for a password and none is configured: set PGPASSWORD, ` +
        'or LAKEBASE_INSTANCE_NAME / LAKEBASE_ENDPOINT with Databricks credentials for OAuth'
      );
  }
}

export function explainConnectionError(error: unknown, target: ConnectionTarget): LakebaseConnectionError {
  // Failures of the password function (workspace auth, credential API) are already explained.
  if (error instanceof LakebaseConnectionError) return error;
  const where = `${target.host}:${target.port}`;
  const detail = error instanceof Error ? error.message : String(error);
  const code = codeOf(error);
  const login = (message: string) =>
    new LakebaseConnectionError('postgres-login', `${message} (${detail})`, code, { cause: error });
  const connect = (message: string) =>
    new LakebaseConnectionError('postgres-connect', `${message} (${detail})`, code, { cause: error });

  switch (code) {
    case '28P01':
      return login(rejectedPassword(target));
    case '28000':
      if (/role .* does not exist/i.test(detail)) {
        return login(
          `no Postgres role "${target.user}" on ${where}: add the database as an app resource ` +
            `(it creates the role of the app's service principal), or create an OAuth role for this identity ` +
            `(SELECT databricks_create_role('${target.user}', 'SERVICE_PRINCIPAL'))`,
        );
      }
      return login(`the server refused role "${target.user}"; if it requires SSL, set PGSSLMODE=require`);
    case '3D000':
      return login(`no database "${target.database}" on ${where}; check PGDATABASE (the app resource's database_name)`);
    case '42501':
      return login(`role "${target.user}" may not connect to database "${target.database}"; grant CONNECT on it`);
    case '53300':
      return login(`${where} has no free connection slots; lower PG_POOL_MAX or raise the instance capacity`);
    case '57P03':
      return connect(`${where} is not accepting connections yet (starting, or the instance is stopped)`);
  }
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return connect(`could not reach ${where}; check PGHOST/PGPORT and the network path`);
  }
  if (/does not support SSL/i.test(detail)) {
    return connect(`PGSSLMODE=${target.sslMode} requires SSL but ${where} does not offer it`);
  }
  if (code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    return connect(
      `the server certificate of ${where} failed verification under PGSSLMODE=${target.sslMode}; ` +
        `check PGHOST: this may not be the database at all. The certificate must chain to ` +
        "PGSSLROOTCERT's CAs, else Node's CA store (add a private CA with NODE_EXTRA_CA_CERTS)",
    );
  }
  return connect(`could not open a connection to ${where}`);
}
