/**
 * Who may start a sync (refreshSyncedTable). Starting a pipeline update costs
 * compute and can be a full refresh, so it is denied unless the caller is in
 * GATEWAY_ADMINS (identity forwarded by the Databricks Apps proxy) or presents
 * GATEWAY_ADMIN_TOKEN.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { RefreshAdminConfig } from '../config/databricks.js';
import { type ErrorCode } from '../errors.js';

/** Anything with case-insensitive get(), like the Fetch API Headers a Yoga request carries. */
export interface HeaderSource {
  get(name: string): string | null;
}

export type RefreshCaller = { via: 'admin-token' } | { via: 'identity'; principal: string };

export class RefreshForbiddenError extends GraphQLError {
  constructor(message: string) {
    super(message, { extensions: { code: 'FORBIDDEN' satisfies ErrorCode, http: { status: 403 } } });
    this.name = 'RefreshForbiddenError';
  }
}

/** Compares digests, so neither the content nor the length of the secret leaks through timing. */
function sameSecret(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function presentedTokens(headers: HeaderSource): string[] {
  const tokens: string[] = [];
  const explicit = headers.get('x-admin-token')?.trim();
  if (explicit) tokens.push(explicit);
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.get('authorization')?.trim() ?? '')?.[1]?.trim();
  if (bearer) tokens.push(bearer);
  return tokens;
}

/**
 * The caller's identity from the one header the admin decision rests on
 * (GATEWAY_ADMIN_IDENTITY_HEADER, default X-Forwarded-Email). One header, not
 * whichever of several matches: a header the proxy did not set for this
 * caller could otherwise be sent by the caller to borrow an admin's identity.
 */
function forwardedIdentity(headers: HeaderSource, header: string): string | undefined {
  const value = headers.get(header)?.trim().toLowerCase();
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The request headers the decision below reads (presentedTokens, forwardedIdentity), for HTTP's Vary: a browser
 * or a shared cache that kept one caller's answer must not hand it to a caller these headers set apart.
 */
export function authorizationHeaders(admin: RefreshAdminConfig): string[] {
  const headers: string[] = [];
  if (admin.token !== undefined) headers.push('Authorization', 'X-Admin-Token');
  if (admin.principals.size > 0 && admin.trustForwardedIdentity) headers.push(admin.identityHeader);
  return headers;
}

/** Returns who is allowed, or throws RefreshForbiddenError saying what would be needed. */
export function authorizeRefresh(headers: HeaderSource, admin: RefreshAdminConfig): RefreshCaller {
  const expectedToken = admin.token;
  if (expectedToken !== undefined) {
    // A bearer token that is not the admin token may be a Databricks token meant
    // for the Apps proxy; it is not a failed attempt, so fall through to identity.
    if (presentedTokens(headers).some((token) => sameSecret(token, expectedToken))) return { via: 'admin-token' };
  }
  const identity = forwardedIdentity(headers, admin.identityHeader);
  if (admin.trustForwardedIdentity && identity !== undefined && admin.principals.has(identity)) {
    return { via: 'identity', principal: identity };
  }
  throw new RefreshForbiddenError(denialMessage(admin, identity !== undefined));
}

/** Never contains a header value: error messages reach clients and logs. */
function denialMessage(admin: RefreshAdminConfig, identified: boolean): string {
  const ways: string[] = [];
  if (admin.principals.size > 0) {
    ways.push(
      admin.trustForwardedIdentity
        ? `a user listed in GATEWAY_ADMINS (by the ${admin.identityHeader} header of the Databricks Apps proxy)`
        : 'a user listed in GATEWAY_ADMINS (identity headers are trusted only on Databricks Apps, ' +
            'or with GATEWAY_TRUST_FORWARDED_IDENTITY=true)',
    );
  }
  if (admin.token !== undefined) ways.push('the admin token in an X-Admin-Token or Authorization: Bearer header');
  if (ways.length === 0) {
    return (
      'refreshSyncedTable is disabled: no refresh administrators are configured. Set GATEWAY_ADMINS ' +
      '(comma-separated e-mails or user ids) or GATEWAY_ADMIN_TOKEN on the gateway.'
    );
  }
  const who = identified && admin.trustForwardedIdentity ? ' The signed-in user is not in GATEWAY_ADMINS.' : '';
  return `refreshSyncedTable requires ${ways.join(' or ')}.${who}`;
}

/** The same decision as authorizeRefresh, as a yes/no (Query.viewer.canRefresh: whether to offer "Sync now"). */
export function mayRefresh(headers: HeaderSource, admin: RefreshAdminConfig): boolean {
  try {
    authorizeRefresh(headers, admin);
    return true;
  } catch (error) {
    if (error instanceof RefreshForbiddenError) return false;
    throw error;
  }
}
