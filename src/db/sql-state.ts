/** The SQLSTATE of a database error (pg's `code`), or undefined for anything else. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Class 22, data exception: the database refused a value (not an outage, not a bug in a statement's shape). */
export function isDataException(error: unknown): boolean {
  return sqlState(error)?.startsWith('22') ?? false;
}

/** numeric_value_out_of_range: "value out of range: overflow", e.g. a float8 sum past 1.8e308. */
export const NUMERIC_VALUE_OUT_OF_RANGE = '22003';

/** query_canceled: a statement stopped by statement_timeout (PG_STATEMENT_TIMEOUT_MS), or cancelled. */
export const QUERY_CANCELED = '57014';

/** undefined_table: a relation the statement names does not exist. */
export const UNDEFINED_TABLE = '42P01';

/** insufficient_privilege: the role may not do this (a missing grant). */
export const INSUFFICIENT_PRIVILEGE = '42501';

/** Node's socket errors for a server that cannot be reached or went away. */
export const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
]);

/**
 * The database cannot serve right now (not this statement's fault, not a bug): unreachable, restarting, shut
 * down under the connection, refusing the login, or the connection lost mid-statement. Class 08 is connection
 * exception; 57P01–57P03 are admin_shutdown, crash_shutdown and cannot_connect_now; 28000/28P01 a refused login.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  const state = sqlState(error);
  if (state !== undefined) {
    return state.startsWith('08') || ['57P01', '57P02', '57P03', '28000', '28P01'].includes(state);
  }
  // pg's own words when the socket closes under a query or a connection attempt times out, and when TLS cannot be
  // had: a server that offers none under PGSSLMODE=require, or a certificate that fails verification (Node's
  // certificate codes). Each is the database being out of reach, logged with its cause, not an internal error.
  if (typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|^ERR_TLS|^ERR_SSL_|^EPROTO$/.test(code))
    return true;
  return error instanceof Error && /^Connection terminated|does not support SSL/.test(error.message);
}
