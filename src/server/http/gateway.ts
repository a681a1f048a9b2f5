import { NoSchemaIntrospectionCustomRule, type GraphQLSchema } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { requestIdOf, useAccessLog } from '../../observability/access-log.js';
import type { GatewayContext, GatewayServices } from '../../schema/context.js';
import { useRequestBodyLimit } from '../plugins/body-limit.js';
import { useCompiledExecution } from '../fast-paths/compiled-execution.js';
import { corsOptions } from './cors.js';
import { GatewayURLPattern, GRAPHQL_ENDPOINT } from './graphql-endpoint.js';
import { useErrorMasking } from '../plugins/error-masking.js';
import { boundedParserCache, useDocumentLimits, useValidationCache } from '../plugins/document-limits.js';
import { usePersistedOperationsFromManifest } from '../plugins/persisted-operations.js';
import { useRequestGuards, useVariableGuards } from '../plugins/request-guards.js';
import { useStatementCancellation } from '../plugins/statement-cancellation.js';
import { costOptions, useQueryCost } from '../plugins/query-cost.js';
import { useSecurityHeaders } from '../plugins/security-headers.js';
import { renderGraphiQL } from '../web-page.js';

export type Gateway = YogaServerInstance<Record<string, never>, GatewayContext>;

export interface GatewayOptions {
  schema: GraphQLSchema;
  services: GatewayServices;
  /** Extra plugins (subscriptions transport, sync hooks). */
  plugins?: Plugin<GatewayContext>[];
  /** GET and HEAD endpoints outside GraphQL (health, readiness, the dashboard); return undefined to fall through. */
  routes?: (request: Request) => Promise<Response | undefined> | Response | undefined;
  /** Overrides MAX_REQUEST_BODY_BYTES (config.edge). */
  maxRequestBodyBytes?: number;
  /** Plugins that run before everything else (per-client limits: a refused request costs nothing more). */
  firstPlugins?: Plugin[];
}

/** What GraphiQL opens with for a new visitor: the dashboard's own queries, ready to run. */
export const GRAPHIQL_DEFAULT_QUERY = `# lakebase-graphql: NYC taxi trips from a Lakebase synced table.
# Run an operation with the ▶ button; the Docs panel lists the whole API.

# The latest trips, as the dashboard at / reads them (pass endCursor as after for the next page).
query LatestTrips {
  trips(first: 10, orderBy: [PICKUP_AT_DESC]) {
    totalCount
    edges {
      node {
        tripId
        pickupAt
        fareAmount
        pickupZone {
          zip
          borough
        }
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}

# Aggregates for BI: average fare by pickup borough.
query FareByBorough {
  tripGroups(groupBy: [PICKUP_BOROUGH]) {
    pickupBorough
    stats {
      count
      fareAmount {
        avg
      }
    }
  }
}

# Live: new trips as they are synced (GraphQL over SSE). Insert some with
#   npm run data -- insert --count 5
subscription NewTrips {
  tripsAdded {
    cursor
    trips {
      tripId
      pickupAt
      fareAmount
    }
  }
}
`;

export function createGateway({
  schema,
  services,
  plugins = [],
  routes,
  maxRequestBodyBytes,
  firstPlugins = [],
}: GatewayOptions): Gateway {
  const { limits, edge } = services.config;
  const rejected = (error: Error, request: Request | undefined) =>
    services.logger.info('query rejected by limits', {
      requestId: request ? requestIdOf(request) : null,
      reason: error.message,
    });
  const persisted = usePersistedOperationsFromManifest(edge.persistedOperations, edge.persistedOperationsManifest);
  return createYoga<Record<string, never>, GatewayContext>({
    schema,
    graphqlEndpoint: GRAPHQL_ENDPOINT,
    fetchAPI: { URLPattern: GatewayURLPattern },
    landingPage: false,
    // Yoga answers any URL *ending* in its health endpoint with an empty 200 before any plugin of ours runs,
    // which shadowed our /health (documented JSON, see health.ts). A fragment never reaches a server, so this
    // endpoint never matches.
    healthCheckEndpoint: '/health#yoga-builtin-disabled',
    graphiql: edge.graphiql
      ? {
          title: 'lakebase-graphql',
          defaultQuery: GRAPHIQL_DEFAULT_QUERY,
          // The subscription example in the default query streams over SSE, the gateway's live transport.
          subscriptionsProtocol: 'SSE',
        }
      : false,
    // Served from npm packages through this process (server/web-page.ts), not from a CDN.
    renderGraphiQL,
    cors: corsOptions(edge.corsOrigins),
    // Bounded by bytes, not entries: see document-limits.ts.
    parserAndValidationCache: boundedParserCache(edge.documentCacheBytes),
    // GraphQL over HTTP's persisted documents send `documentId` instead of `query`.
    extraParamNames: ['documentId'],
    // Uploads are not part of this API, and multipart is one of the content types a cross-site form can send.
    multipart: false,
    logging: {
      // Yoga logs several debug lines per request; formatting them just to drop them showed in the benchmark.
      debug:
        services.config.logLevel === 'debug'
          ? (...args) => services.logger.debug(args.map(String).join(' '))
          : () => {},
      info: (...args) => services.logger.info(args.map(String).join(' ')),
      warn: (...args) => services.logger.warn(args.map(String).join(' ')),
      error: (...args) => services.logger.error(args.map(String).join(' ')),
    },
    // Our own plugin masks and logs unexpected errors with the request id;
    // yoga's masking stays on as the last line of defence.
    maskedErrors: true,
    // Replaced by useRequestBodyLimit below, which enforces the same limit more cheaply.
    maxRequestBodySize: false,
    context: ({ request }) => gatewayContext(services, request, requestIdOf(request)),
    plugins: [
      // First: it times every request, including those a later plugin answers early (limits, /metrics).
      ...(edge.accessLog ? [useAccessLog(services.logger)] : []),
      useSecurityHeaders(edge.corsOrigins),
      // Before every other onValidate hook: see useValidationCache (off with the parse cache).
      ...(edge.documentCacheBytes > 0 ? [useValidationCache()] : []),
      ...firstPlugins,
      {
        // Synchronous for every other method: an async hook costs each GraphQL POST a few promise turns.
        onRequest({ request, endResponse }) {
          if (!routes || (request.method !== 'GET' && request.method !== 'HEAD')) return undefined;
          return Promise.resolve(routes(request)).then((response) => {
            if (response) endResponse(response);
          });
        },
      },
      ...persisted,
      ...useDocumentLimits(
        {
          maxTokens: edge.maxTokens,
          maxDepth: limits.maxDepth,
          maxAliases: limits.maxAliases,
          maxDirectives: edge.maxDirectives,
        },
        rejected,
      ),
      ...(edge.introspection ? [] : [disableIntrospection]),
      useQueryCost(costOptions(limits)),
      useRequestBodyLimit(maxRequestBodyBytes ?? edge.maxRequestBodyBytes),
      // Before every plugin that wraps execution (the response cache in `plugins`): see useVariableGuards.
      useVariableGuards(edge.maxListItems),
      // Fast path (fast-paths/compiled-execution.ts); GRAPHQL_JIT=off leaves every query on graphql-js.
      ...(services.config.fastPaths.graphqlJit
        ? [
            useCompiledExecution({
              onCompile: (operationName, outcome) =>
                outcome.compiled
                  ? services.logger.debug('operation compiled', { operationName })
                  : services.logger.debug('operation runs on graphql-js: graphql-jit cannot compile it', {
                      operationName,
                      reason: outcome.reason,
                    }),
            }),
          ]
        : []),
      useErrorMasking(),
      useStatementCancellation(),
      ...plugins,
      // Last: its result hook sees which result processor the others chose (406 when none).
      useRequestGuards({ maxListItems: edge.maxListItems, maxErrorMessageChars: edge.maxErrorMessageChars }),
    ],
  });
}

/**
 * What resolvers see for one request. One literal of fixed shape rather than a spread of `services`: the spread
 * cost 11–12 µs per request (bench/gateway-ab.ts --floor), a tenth of `{ __typename }`. The return type makes a
 * service added to GatewayServices a compile error here until it is passed on.
 */
export function gatewayContext(services: GatewayServices, request: Request, requestId: string): GatewayContext {
  return {
    config: services.config,
    db: services.db,
    statements: services.statements,
    logger: services.logger,
    sync: services.sync,
    live: services.live,
    rollups: services.rollups,
    request,
    requestId,
    // Set by useStatementCancellation for queries and mutations; here so that every context has one shape.
    statementSignal: undefined,
  };
}

/** GRAPHQL_INTROSPECTION=false: graphql-js' own rule refuses __schema and __type (not __typename). */
const disableIntrospection: Plugin = {
  onValidate({ addValidationRule }) {
    addValidationRule(NoSchemaIntrospectionCustomRule);
  },
};
