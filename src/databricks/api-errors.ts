/**
 * Turns errors thrown by @databricks/sdk-experimental into one sentence that
 * says what to check. The SDK reports a 403 on the credential API and a 403 on
 * the synced-table API identically; only the caller knows which grant is
 * missing, so callers pass the hints.
 */
import { ApiError, ConfigError as SdkConfigError, HttpError, retries } from '@databricks/sdk-experimental';

import { errorMessage } from '../errors.js';
import { isWorkspaceNoAnswer, lastRefusedRedirect, refusedRedirectOf } from './workspace-http-guard.js';

export { errorMessage };

/** The HTTP status of an SDK error, when it has one. */
export function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof ApiError) return error.statusCode;
  if (error instanceof HttpError) return error.code;
  return undefined;
}

export interface ApiCallContext {
  /** What was being asked for, e.g. `database credential for instance "x"`. */
  what: string;
  /** What to check when the caller is not allowed (403). */
  forbiddenHint: string;
  /** What to check when the object does not exist (404). */
  notFoundHint: string;
  /** What a 409 Conflict means for this call, when it can happen. */
  conflictHint?: string;
}

export interface ApiFailure {
  status: number | undefined;
  /** "<what>: <hint> (<SDK message>)" */
  message: string;
}

/** Describes a failed REST call made after workspace authentication succeeded. */
export function describeApiFailure(error: unknown, context: ApiCallContext): ApiFailure {
  const status = httpStatusOf(error);
  let hint: string;
  const redirect = refusedRedirectIn(error);
  if (redirect) {
    return { status, message: `${context.what}: ${redirectHint(redirect)}` };
  } else if (isWorkspaceNoAnswer(error, errorMessage(error))) {
    hint = 'the workspace did not answer; check that DATABRICKS_HOST is the workspace URL and reachable from here';
  } else if (error instanceof retries.TimeoutError) {
    // The SDK retries 429 (and a few transient errors) until its retry timeout, then says only "Timeout".
    hint =
      'the workspace kept answering 429 Too Many Requests (or a transient error) until the retry timeout; try again later';
  } else if (status === 401) {
    hint = 'the workspace rejected the OAuth token (401); check the service principal is enabled in this workspace';
  } else if (status === 403) {
    hint = `permission denied (403): ${context.forbiddenHint}`;
  } else if (status === 404) {
    hint = `not found (404): ${context.notFoundHint}`;
  } else if (status === 409 && context.conflictHint !== undefined) {
    hint = `conflict (409): ${context.conflictHint}`;
  } else if (status === 429) {
    hint = 'rate limited (429); try again later';
  } else if (status !== undefined && status >= 500) {
    hint = `the Databricks service failed (${status}); usually transient, the next attempt retries`;
  } else if (status !== undefined) {
    hint = `the request was rejected (${status})`;
  } else {
    hint = 'the request did not complete';
  }
  return { status, message: `${context.what}: ${hint} (${sdkErrorText(error)})` };
}

/** A redirect the workspace answered with, refused by workspace-http-guard.ts. */
function refusedRedirectIn(error: unknown): { status: number; location: string } | undefined {
  if (error instanceof ApiError && error.errorCode !== undefined) {
    const found = refusedRedirectOf(error.errorCode);
    if (found) return found;
  }
  return refusedRedirectOf(errorMessage(error));
}

/** What to do about a refused redirect: the usual causes are a scheme or a URL that is not the workspace's. */
function redirectHint(redirect: { status: number; location: string }): string {
  return (
    `DATABRICKS_HOST answered with a redirect (${redirect.status}) to ${redirect.location}, which is not followed ` +
    'because it would resend the credentials; set DATABRICKS_HOST to the workspace URL itself ' +
    '(https://<workspace>.cloud.databricks.com, without a path)'
  );
}

/**
 * The workspace's own words for a failed call. Real error bodies carry a `details` list whose
 * `google.rpc.RequestInfo` entry has no `metadata`; @databricks/sdk-experimental 0.17 then fails to
 * parse the body and its message becomes "Response from server (Not Found) {…the raw JSON…}". This
 * reads `error_code` and `message` from that body itself.
 */
export function sdkErrorText(error: unknown): string {
  if (error instanceof ApiError && typeof error.response === 'string') {
    const body = parsedErrorBody(error.response);
    if (body) return body.errorCode === undefined ? body.message : `${body.errorCode}: ${body.message}`;
  }
  return errorMessage(error);
}

function parsedErrorBody(raw: string): { errorCode?: string; message: string } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { error_code: errorCode, message } = parsed as Record<string, unknown>;
  if (typeof message !== 'string' || message === '') return undefined;
  return typeof errorCode === 'string' ? { errorCode, message } : { message };
}

/** Describes a failure of the SDK's own authentication (OIDC discovery, client-credentials token). */
export function describeWorkspaceAuthFailure(error: unknown, host: string | undefined): string {
  const where = host ?? 'the configured workspace';
  const detail = errorMessage(error);
  let hint: string;
  // The error's own words first; the guard's record of the host's last answer only when they say nothing.
  const redirect =
    refusedRedirectIn(error) ??
    (host === undefined || isWorkspaceNoAnswer(error, detail) ? undefined : lastRefusedRedirect(host));
  if (redirect) {
    hint = redirectHint(redirect);
  } else if (isWorkspaceNoAnswer(error, detail)) {
    hint = `${where} did not answer; check DATABRICKS_HOST is the workspace URL and reachable from here`;
  } else if (error instanceof SdkConfigError && /oidc|discover/i.test(detail)) {
    hint = `could not discover the workspace's OAuth endpoints (${where}/oidc/.well-known/oauth-authorization-server); check DATABRICKS_HOST`;
  } else if (/Failed to retrieve token/i.test(detail)) {
    hint = `the workspace token endpoint refused the client credentials; check DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET belong to a service principal of ${where} and the secret has not expired`;
  } else if (error instanceof SdkConfigError) {
    hint =
      'no usable Databricks credentials; set DATABRICKS_HOST with DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET, or DATABRICKS_CONFIG_PROFILE for a CLI profile';
  } else {
    hint = `could not authenticate to ${where}; check DATABRICKS_HOST is reachable`;
  }
  return `${hint} (${detail})`;
}
