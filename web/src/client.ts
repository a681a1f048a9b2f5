/**
 * The page's GraphQL clients: urql (queries, the mutation, syncStatusChanged)
 * with a normalized cache configured for this schema, and one graphql-sse
 * client for subscriptions (GraphQL over SSE, the gateway's live transport).
 */
import { cacheExchange } from '@urql/exchange-graphcache';
import { createClient as createSseClient, type Client as SseClient } from 'graphql-sse';
import { Client, fetchExchange, subscriptionExchange } from 'urql';

export const STREAM_URL = new URL('/graphql/stream', window.location.href).toString();

/** For syncStatusChanged: graphql-sse's own retry is fine, the status is resent in full on each subscribe. */
const retryingSse: SseClient = createSseClient({ url: STREAM_URL, retryAttempts: Infinity });

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

export const urqlClient = new Client({
  url: '/graphql',
  exchanges: [
    cache,
    fetchExchange,
    subscriptionExchange({
      forwardSubscription: (request) => ({
        subscribe: (sink) => ({
          unsubscribe: retryingSse.subscribe(
            {
              query: request.query ?? '',
              variables: request.variables,
            },
            sink,
          ),
        }),
      }),
    }),
  ],
});
