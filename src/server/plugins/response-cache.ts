import { defaultBuildResponseCacheKey } from '@envelop/response-cache';
import { useResponseCache } from '@graphql-yoga/plugin-response-cache';
import type { Plugin } from 'graphql-yoga';
import { callerScope } from '../../cache/caller-scope.js';
import { isScopedKey, responseKey, type ResponseStore } from '../../cache/response-store.js';
import type { TableVersionTracker } from '../../cache/table-version.js';
import type { RefreshAdminConfig } from '../../config/databricks.js';
import type { GatewayContext } from '../../schema/context.js';
import { STREAM_ENDPOINT } from '../sse/transport.js';

export interface ResponseCacheOptions {
  versions: TableVersionTracker;
  store: ResponseStore;
  /** Who may refresh (the one caller property that changes answers today); null without a sync pipeline. */
  admin: RefreshAdminConfig | null;
}

/** Never a cache key of the store (it has no version tag): such answers are computed and not stored. */
const UNCACHED_KEY = 'uncached';

/**
 * Operations that can never be cached skip the version read. A cheap look at
 * the text, only an optimisation: a mutation it misses takes the response
 * cache's mutation path (never stored); a query it misreads is not cached.
 */
const NOT_A_QUERY = /^\s*(?:mutation|subscription)\b/;
/** Read from the pipeline, not the table: never stored (its TTL is 0 as well), so not worth a version read. */
const SYNC_STATUS = /\bsyncStatus\b/;

/**
 * The response cache (@graphql-yoga/plugin-response-cache over
 * @envelop/response-cache) with the table's version in every key:
 * - the key is built per request, in onParams, from a version read that
 *   started after the request arrived (TableVersionTracker.fresh), so a write
 *   committed before the request is never answered from an older entry, in
 *   this process or any other;
 * - a hit is answered before parsing, validation and execution;
 * - the key is the ETag; the plugin answers `If-None-Match` with 304 while
 *   the entry is current. The version read comes first (here, in onRequest),
 *   so a 304 is never given for a table that has changed since;
 * - Query.syncStatus (read from the pipeline, not the table) has a TTL of 0:
 *   never stored. Mutations and subscriptions are never stored by the plugin.
 */
export function useGatewayResponseCache({ versions, store, admin }: ResponseCacheOptions): Plugin<GatewayContext>[] {
  /** The key each request claimed to compute (ResponseStore.awaitComputation), released once it is answered. */
  const claims = new WeakMap<Request, string>();
  const validateFirst: Plugin<GatewayContext> = {
    async onRequest({ request }) {
      if (request.headers.has('if-none-match')) await versions.fresh();
    },
    onResponse({ request }) {
      const key = claims.get(request);
      if (key !== undefined) store.release(key, request);
    },
  };
  const responseCache = useResponseCache<GatewayContext>({
    cache: store,
    // graphql-sse's single-connection endpoint runs operations through getEnveloped() without yoga's request
    // pipeline, so the key the plugin builds in onParams does not exist there: those are answered uncached.
    // (Both stream paths, /graphql/stream and /api/graphql/stream, end with STREAM_ENDPOINT.)
    enabled: (request) => !(request.url.split('?')[0] ?? '').endsWith(STREAM_ENDPOINT),
    session: (request) => callerScope(request.headers, admin),
    ttlPerSchemaCoordinate: { 'Query.syncStatus': 0 },
    // Entries are dropped by version, not per entity: no id fields to collect.
    idFields: [],
    includeExtensionMetadata: false,
    buildResponseCacheKey: async (params) => {
      if (NOT_A_QUERY.test(params.documentString) || SYNC_STATUS.test(params.documentString)) return UNCACHED_KEY;
      const [version, hash] = await Promise.all([versions.fresh(), defaultBuildResponseCacheKey(params)]);
      if (version.tag === null) return UNCACHED_KEY;
      const key = responseKey(version.tag, params.sessionId != null, hash);
      // Another request is computing this very answer: wait for it rather than run the same statements.
      const running = store.awaitComputation(key, params.request);
      if (running) await running;
      else claims.set(params.request, key);
      return key;
    },
    shouldCacheResult: ({ cacheKey, result }) => {
      if (cacheKey === UNCACHED_KEY) return false;
      if (result.errors?.length) {
        store.settle(cacheKey);
        return false;
      }
      const extensions = (result.extensions ??= {});
      const http = (extensions.http ??= {}) as { headers?: Record<string, string> };
      // Revalidate every time (the answer changes with any sync); a caller-scoped answer is for the caller alone.
      (http.headers ??= {})['Cache-Control'] = isScopedKey(cacheKey) ? 'private, no-cache' : 'no-cache';
      return true;
    },
  });
  // The plugin is typed for yoga's initial context only; it reads nothing of ours.
  return [validateFirst, responseCache as unknown as Plugin<GatewayContext>];
}
