/**
 * The page's GraphQL clients: urql (queries, the mutation, syncStatusChanged)
 * with a normalized cache configured for this schema, and one graphql-sse
 * client for every subscription of the tab.
 *
 * graphql-sse in single connection mode: one event stream per tab carries all
 * its subscriptions. Browsers allow six HTTP/1.1 connections per host; one
 * stream per subscription would stall a user's third tab.
 */
import { cacheExchange } from '@urql/exchange-graphcache';
import { createClient as createSseClient } from 'graphql-sse';
import { Client, fetchExchange, subscriptionExchange } from 'urql';

export const sse = createSseClient({
  url: new URL('/graphql/stream', window.location.href).toString(),
  singleConnection: true,
  // Each subscriber resumes on its own (trip changes from their last cursor), see live/trip-changes.ts.
  retryAttempts: 0,
});

/** Retries a subscription whose stream ended or failed, backing off up to 5 s (used for syncStatusChanged). */
function resubscribing(
  payload: { query: string; variables?: Record<string, unknown> },
  sink: { next(value: never): void; error(error: unknown): void; complete(): void },
): () => void {
  let stopped = false;
  let dispose: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  const connect = () => {
    if (stopped) return;
    const retry = () => {
      dispose?.();
      failures += 1;
      if (!stopped) timer = setTimeout(connect, Math.min(5000, 250 * 2 ** Math.min(failures - 1, 5)));
    };
    dispose = sse.subscribe(payload, {
      next: (value) => {
        // Only data proves the stream works: an error result (SYNC_NOT_CONFIGURED on a gateway without a
        // pipeline) reset the back-off, and the page subscribed again every 250 ms, forever.
        if ((value as { data?: unknown }).data != null) failures = 0;
        sink.next(value as never);
      },
      error: retry,
      complete: retry,
    });
  };
  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    dispose?.();
  };
}

/**
 * Graphcache keys: Trip is keyed by its id (the default); Zone has no id, its
 * ZIP is its identity. Everything else is a value belonging to its parent
 * (a page, a group, a status), so it is embedded rather than normalized.
 */
const embedded = () => null;
const cache = cacheExchange({
  keys: {
    Zone: (zone) => (zone.zip == null ? null : String(zone.zip)),
    TripConnection: embedded,
    TripEdge: embedded,
    PageInfo: embedded,
    TripBatch: embedded,
    TripStats: embedded,
    NumberStats: embedded,
    TripGroup: embedded,
    SyncStatus: embedded,
    SyncPosition: embedded,
    SyncProgress: embedded,
    SyncRefresh: embedded,
    Viewer: embedded,
  },
});

const ADMIN_TOKEN_KEY = 'lakebase-graphql:admin-token';

/**
 * The refresh admin token (GATEWAY_ADMIN_TOKEN) entered in the sync panel, kept for this tab only
 * (sessionStorage: gone when the tab closes) and sent as X-Admin-Token with the page's queries and mutations.
 * A browser cannot otherwise send that header, so "Sync now" stayed hidden to anyone using the token locally.
 */
export function adminToken(): string | null {
  try {
    return sessionStorage.getItem(ADMIN_TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setAdminToken(token: string | null): void {
  try {
    if (token === null || token.trim() === '') sessionStorage.removeItem(ADMIN_TOKEN_KEY);
    else sessionStorage.setItem(ADMIN_TOKEN_KEY, token.trim());
  } catch {
    // Storage refused (a private mode): the token is simply not kept.
  }
}

export const urqlClient = new Client({
  url: '/graphql',
  fetchOptions: () => {
    const token = adminToken();
    return token === null ? {} : { headers: { 'X-Admin-Token': token } };
  },
  exchanges: [
    cache,
    fetchExchange,
    subscriptionExchange({
      forwardSubscription: (request) => ({
        subscribe: (sink) => ({
          unsubscribe: resubscribing({ query: request.query ?? '', variables: request.variables }, sink),
        }),
      }),
    }),
  ],
});
