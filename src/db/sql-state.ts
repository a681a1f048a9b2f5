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

/** insufficient_privilege: the role may not do this (a missing grant). */
export const INSUFFICIENT_PRIVILEGE = '42501';
