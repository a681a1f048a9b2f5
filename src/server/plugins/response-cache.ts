import { defaultBuildResponseCacheKey } from '@envelop/response-cache';
import { useResponseCache } from '@graphql-yoga/plugin-response-cache';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { callerScope } from '../../cache/caller-scope.js';
import { isScopedKey, responseKey, type ResponseStore } from '../../cache/response-store.js';
import type { TableVersionTracker } from '../../cache/table-version.js';
import type { RefreshAdminConfig } from '../../config/databricks.js';
import type { GatewayContext } from '../../schema/context.js';
import { authorizationHeaders } from '../../sync/refresh-authorization.js';
import { ifNoneMatchNames } from '../http/if-none-match.js';
import { STREAM_ENDPOINT } from '../sse/transport.js';

export interface ResponseCacheOptions {
  versions: TableVersionTracker;
  store: ResponseStore;
  /** Who may refresh (the one caller property that changes answers today); null without a sync pipeline. */
  admin: RefreshAdminConfig | null;
  /**
   * How long a stream cursor stays valid (LIVE_CHANGE_RETENTION_SECONDS). An answer may carry one
   * (TripConnection.streamCursor), and a table left unwritten keeps its entry current for ever: keys roll over
   * every half of this, so an answer served is never closer than that to its cursor's expiry.
   */
  cursorLifetimeMs: number;
  /**
   * What the answers come from besides the table and the caller, read per request: answersIdentity() (the code,
   * schema and settings) and the live mechanism in use, whose stream cursors differ (TripConnection.streamCursor).
   */
  answers: () => string;
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
 * - the key is the ETag. `If-None-Match` is evaluated here, not by the
 *   plugin, which would answer 304 to any request naming any current entry:
 *   another query, another caller's scope, even a mutation, which then never
 *   ran. Here a GET gets 304 only when the header names the key of
 *   this very request, computed from a fresh version read (so never for a
 *   table that has changed since), and its answer is one that is cached;
 *   other methods ignore the header;
 * - Query.syncStatus (read from the pipeline, not the table) has a TTL of 0:
 *   never stored. Mutations and subscriptions are never stored by the plugin.
 */
export function useGatewayResponseCache({
  versions,
  store,
  admin,
  cursorLifetimeMs,
  answers,
}: ResponseCacheOptions): Plugin<GatewayContext>[] {
  /** The key each request claimed to compute (ResponseStore.awaitComputation), released once it is answered. */
  const claims = new WeakMap<Request, string>();
  /** Each request's key, and the If-None-Match of a GET, for the 304 decision once the answer is known. */
  const keys = new WeakMap<Request, string>();
  const conditions = new WeakMap<Request, string>();
  // One URL answers in several media types (JSON, graphql-response+json; an event stream and GraphiQL's page are
  // not cached), and the caller's scope comes from its headers: a shared cache must key on both.
  const vary = ['Accept', ...(admin ? authorizationHeaders(admin) : [])].join(', ');
  const keyPeriodMs = Math.max(1_000, Math.floor(cursorLifetimeMs / 2));
  const headersFor = (key: string): Record<string, string> => ({
    // Revalidate every time (the answer changes with any sync); a caller-scoped answer is for the caller alone.
    'Cache-Control': isScopedKey(key) ? 'private, no-cache' : 'no-cache',
    Vary: vary,
  });
  const conditional: Plugin<GatewayContext> = {
    onRequest({ request }) {
      const condition = request.headers.get('if-none-match');
      if (condition === null) return;
      request.headers.delete('if-none-match');
      // HEAD is refused before any of this (request-guards.ts: 405).
      if (request.method === 'GET') conditions.set(request, condition);
    },
    onResultProcess({ request, result, resultProcessor, setResultProcessor }) {
      const condition = conditions.get(request);
      const key = keys.get(request);
      if (condition === undefined || key === undefined || key === UNCACHED_KEY || !resultProcessor) return;
      if (Array.isArray(result) || isAsyncIterable(result) || result.errors?.length) return;
      if (!ifNoneMatchNames(condition, key)) return;
      // RFC 9110 15.4.5: a 304 repeats the ETag and the caching fields the 200 would have had.
      const headers = { ETag: key, ...headersFor(key) };
      setResultProcessor(
        (_result, fetchAPI) => new fetchAPI.Response(null, { status: 304, headers }),
        'application/json',
      );
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
      const period = Math.floor(Date.now() / keyPeriodMs).toString(36);
      const key = responseKey(version.tag, params.sessionId != null, `${period}.${answers()}.${hash}`);
      keys.set(params.request, key);
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
      Object.assign((http.headers ??= {}), headersFor(cacheKey));
      return true;
    },
  });
  // The plugin is typed for yoga's initial context only; it reads nothing of ours.
  return [conditional, responseCache as unknown as Plugin<GatewayContext>];
}
