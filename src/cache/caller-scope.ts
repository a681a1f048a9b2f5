import type { RefreshAdminConfig } from '../config/databricks.js';
import { authorizeRefresh, type HeaderSource } from '../sync/refresh-authorization.js';

/**
 * What about the caller can change an answer: today only whether they may
 * refresh the synced table (Query.viewer.canRefresh reports it). Every reader
 * without that right gets the same answers, so they share cache entries; a
 * refresh administrator gets entries of their own. A field that answers
 * differently per caller in another way must add that to this scope.
 * Null: the shared scope.
 */
export function callerScope(headers: HeaderSource, admin: RefreshAdminConfig | null): string | null {
  if (!admin) return null;
  try {
    authorizeRefresh(headers, admin);
    return 'refresh-admin';
  } catch {
    return null;
  }
}
