import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, read, type Env } from './variables.js';

/**
 * Settings of the HTTP edge: what any client may send, who may call from a
 * browser, and what production exposes. Parsed once at startup like the rest
 * of the configuration (env.ts); a malformed value stops startup naming the
 * variable.
 */
export interface EdgeConfig {
  /** Largest request body accepted (413 beyond). */
  maxRequestBodyBytes: number;
  /** Most lexical tokens in one GraphQL document (graphql-armor max-tokens). */
  maxTokens: number;
  /** Most directives in one document (graphql-armor max-directives). */
  maxDirectives: number;
  /** Most items in any list argument or list variable (e.g. nodes(ids:)). */
  maxListItems: number;
  /** Longest error message text sent to a client; longer ones are cut with a marker. */
  maxErrorMessageChars: number;
  /** Memory budget of the parse cache (estimated from source size, see document-limits.ts); validation and compiled caches follow it. */
  documentCacheBytes: number;
  /** Whole-request read timeout (slow-loris); 0 is not allowed. */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** On shutdown, how long running requests may take to finish (SHUTDOWN_GRACE_MS). */
  shutdownGraceMs: number;
  /** Browser origins allowed to call cross-site; empty = same origin only. `*` allows any origin, without credentials. */
  corsOrigins: readonly string[] | '*';
  introspection: boolean;
  graphiql: boolean;
  persistedOperations: PersistedOperationsMode;
  persistedOperationsManifest: string;
  /** Requests per window per identity (address, or the bearer token's hash); 0 = off. */
  rateLimitRequests: number;
  rateLimitWindowMs: number;
  /** Concurrent subscriptions per identity; more are refused with TOO_MANY_SUBSCRIPTIONS. */
  maxSubscriptionsPerClient: number;
  /** graphql-sse reservations (PUT /graphql/stream) per identity, opened or not; more are refused with 429. */
  maxStreamsPerClient: number;
  /** graphql-sse reservations (PUT) that never open their stream are dropped after this. */
  streamReservationTtlMs: number;
  /** Trust X-Forwarded-For's first address as the client's (behind the Databricks Apps proxy). */
  trustProxy: boolean;
  /** Log one line per request (request id, operation, status, duration). */
  accessLog: boolean;
  /** Serve /metrics (Prometheus text format). */
  metrics: boolean;
}

export const PERSISTED_OPERATIONS_MODES = ['off', 'allow', 'only'] as const;
export type PersistedOperationsMode = (typeof PERSISTED_OPERATIONS_MODES)[number];

/**
 * Written by the dashboard's GraphQL Code Generator client preset (persistedDocuments: true). Found from this
 * file, not the working directory (as web/dist is): started from elsewhere, PERSISTED_OPERATIONS=only could not
 * start and the dashboard-limits warning was silently skipped. A relative PERSISTED_OPERATIONS_MANIFEST is still
 * read from the working directory, as a path given on a command line is.
 */
export const DEFAULT_PERSISTED_OPERATIONS_MANIFEST = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'web',
  'src',
  'gql',
  'persisted-documents.json',
);

function origins(env: Env): readonly string[] | '*' {
  const value = read(env, 'CORS_ORIGINS');
  if (value === undefined) return [];
  if (value === '*') return '*';
  return value.split(',').map((entry) => {
    const origin = entry.trim();
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw new ConfigError('CORS_ORIGINS', `"${origin}" is not an origin such as https://dashboard.example.com`);
    }
    if (parsed.origin !== origin.replace(/\/$/, '')) {
      throw new ConfigError('CORS_ORIGINS', `"${origin}" must be a bare origin (scheme://host[:port]), without a path`);
    }
    return parsed.origin;
  });
}

export function parseEdgeConfig(env: Env, production: boolean): EdgeConfig {
  return {
    maxRequestBodyBytes: read(env, 'MAX_REQUEST_BODY_BYTES'),
    maxTokens: read(env, 'MAX_TOKENS'),
    maxDirectives: read(env, 'MAX_DIRECTIVES'),
    maxListItems: read(env, 'MAX_LIST_ITEMS'),
    maxErrorMessageChars: read(env, 'MAX_ERROR_MESSAGE_CHARS'),
    documentCacheBytes: read(env, 'DOCUMENT_CACHE_BYTES'),
    requestTimeoutMs: read(env, 'HTTP_REQUEST_TIMEOUT_MS'),
    headersTimeoutMs: read(env, 'HTTP_HEADERS_TIMEOUT_MS'),
    shutdownGraceMs: read(env, 'SHUTDOWN_GRACE_MS'),
    corsOrigins: origins(env),
    // On by default, production included: the API is public to its users and its schema is committed in the
    // repository. A locked-down deployment sets both to false and PERSISTED_OPERATIONS=only.
    introspection: read(env, 'GRAPHQL_INTROSPECTION'),
    graphiql: read(env, 'GRAPHIQL'),
    persistedOperations: read(env, 'PERSISTED_OPERATIONS'),
    persistedOperationsManifest: read(env, 'PERSISTED_OPERATIONS_MANIFEST') ?? DEFAULT_PERSISTED_OPERATIONS_MANIFEST,
    rateLimitRequests: read(env, 'RATE_LIMIT_REQUESTS'),
    rateLimitWindowMs: read(env, 'RATE_LIMIT_WINDOW_MS'),
    maxSubscriptionsPerClient: read(env, 'MAX_SUBSCRIPTIONS_PER_CLIENT'),
    maxStreamsPerClient: read(env, 'MAX_STREAMS_PER_CLIENT'),
    streamReservationTtlMs: read(env, 'STREAM_RESERVATION_TTL_MS'),
    trustProxy: read(env, 'TRUST_PROXY') ?? production,
    accessLog: read(env, 'ACCESS_LOG'),
    metrics: read(env, 'METRICS'),
  };
}
