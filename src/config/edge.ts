import { ConfigError, intVar } from './env.js';

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

/** Written by the dashboard's GraphQL Code Generator client preset (persistedDocuments: true). */
export const DEFAULT_PERSISTED_OPERATIONS_MANIFEST = 'web/src/gql/persisted-documents.json';

type Env = Readonly<Record<string, string | undefined>>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (['1', 'true', 'on', 'yes'].includes(value)) return true;
  if (['0', 'false', 'off', 'no'].includes(value)) return false;
  throw new ConfigError(name, `expected true or false, got "${value}"`);
}

function origins(env: Env): readonly string[] | '*' {
  const value = raw(env, 'CORS_ORIGINS');
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
  const modeRaw = raw(env, 'PERSISTED_OPERATIONS')?.toLowerCase() ?? 'off';
  const mode = PERSISTED_OPERATIONS_MODES.find((candidate) => candidate === modeRaw);
  if (!mode) {
    throw new ConfigError('PERSISTED_OPERATIONS', `expected one of off, allow, only, got "${modeRaw}"`);
  }
  return {
    maxRequestBodyBytes: intVar(env, 'MAX_REQUEST_BODY_BYTES', 256 * 1024, 1024, 100_000_000),
    maxTokens: intVar(env, 'MAX_TOKENS', 10_000, 50, 1_000_000),
    maxDirectives: intVar(env, 'MAX_DIRECTIVES', 50, 1, 10_000),
    maxListItems: intVar(env, 'MAX_LIST_ITEMS', 1000, 1, 1_000_000),
    maxErrorMessageChars: intVar(env, 'MAX_ERROR_MESSAGE_CHARS', 1000, 100, 1_000_000),
    documentCacheBytes: intVar(env, 'DOCUMENT_CACHE_BYTES', 32 * 1024 * 1024, 0, 10_000_000_000),
    requestTimeoutMs: intVar(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
    headersTimeoutMs: intVar(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 3_600_000),
    corsOrigins: origins(env),
    // On by default, production included: the API is public to its users and its schema is committed in the
    // repository. A locked-down deployment sets both to false and PERSISTED_OPERATIONS=only.
    introspection: bool(env, 'GRAPHQL_INTROSPECTION', true),
    graphiql: bool(env, 'GRAPHIQL', true),
    persistedOperations: mode,
    persistedOperationsManifest: raw(env, 'PERSISTED_OPERATIONS_MANIFEST') ?? DEFAULT_PERSISTED_OPERATIONS_MANIFEST,
    rateLimitRequests: intVar(env, 'RATE_LIMIT_REQUESTS', 0, 0, 100_000_000),
    rateLimitWindowMs: intVar(env, 'RATE_LIMIT_WINDOW_MS', 60_000, 100, 86_400_000),
    maxSubscriptionsPerClient: intVar(env, 'MAX_SUBSCRIPTIONS_PER_CLIENT', 100, 1, 1_000_000),
    streamReservationTtlMs: intVar(env, 'STREAM_RESERVATION_TTL_MS', 30_000, 100, 3_600_000),
    trustProxy: bool(env, 'TRUST_PROXY', production),
    accessLog: bool(env, 'ACCESS_LOG', true),
    metrics: bool(env, 'METRICS', true),
  };
}
