import { randomUUID } from 'node:crypto';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import type { GraphQLSchema } from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { GatewayContext, GatewayServices } from '../schema/context.js';
import { DEFAULT_MAX_REQUEST_BODY_BYTES, useRequestBodyLimit } from './body-limit.js';
import { useCompiledExecution } from './compiled-execution.js';
import { useErrorMasking } from './error-masking.js';
import { useQueryCost } from './query-cost.js';

export type Gateway = YogaServerInstance<Record<string, never>, GatewayContext>;

export interface GatewayOptions {
  schema: GraphQLSchema;
  services: GatewayServices;
  /** Extra plugins (subscriptions transport, sync hooks). */
  plugins?: Plugin<GatewayContext>[];
  /** GET endpoints outside GraphQL (health/readiness); return undefined to fall through. */
  routes?: (request: Request) => Promise<Response | undefined> | Response | undefined;
  maxRequestBodyBytes?: number;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function createGateway({
  schema,
  services,
  plugins = [],
  routes,
  maxRequestBodyBytes = DEFAULT_MAX_REQUEST_BODY_BYTES,
}: GatewayOptions): Gateway {
  const { limits } = services.config;
  const rejected = (_ctx: unknown, error: Error) =>
    services.logger.info('query rejected by limits', { reason: error.message });
  return createYoga<Record<string, never>, GatewayContext>({
    schema,
    // A URLPattern: exactly /graphql and /api/graphql. /api/graphql is the same
    // API for OAuth token callers (BI tools, scripts, services), whom the
    // Databricks Apps proxy lets through only on paths under /api/. The stream
    // paths (`<path>/stream`) are in sse-transport.ts.
    graphqlEndpoint: '{/api}?/graphql',
    landingPage: false,
    // Introspection and GraphiQL stay on: the API is public to its users, and
    // its schema is committed in the repository anyway.
    graphiql: {
      title: 'lakebase-graphql',
      defaultQuery: '{ trips(first: 10) { edges { node { tripId pickupAt fareAmount pickupZone { borough } } } } }',
    },
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
    context: ({ request }) => {
      const header = request.headers.get('x-request-id');
      return { ...services, request, requestId: header && REQUEST_ID.test(header) ? header : randomUUID() };
    },
    plugins: [
      {
        onRequest: async ({ request, endResponse }) => {
          if (!routes) return;
          const response = await routes(request);
          if (response) endResponse(response);
        },
      },
      maxDepthPlugin({ n: limits.maxDepth, onReject: [rejected], propagateOnRejection: true }),
      maxAliasesPlugin({ n: limits.maxAliases, onReject: [rejected], propagateOnRejection: true }),
      useQueryCost({
        maxCost: limits.maxCost,
        maxListSize: Math.max(limits.maxPageSize, limits.maxGroups),
        // Lists whose size is implicit: the default page sizes the resolvers apply.
        defaultListSize: (field) =>
          field === 'trips' ? limits.defaultPageSize : field === 'tripGroups' ? 100 : undefined,
      }),
      useRequestBodyLimit(maxRequestBodyBytes),
      useCompiledExecution({
        onCompile: (operationName, outcome) =>
          outcome.compiled
            ? services.logger.debug('operation compiled', { operationName })
            : services.logger.debug('operation runs on graphql-js: graphql-jit cannot compile it', {
                operationName,
                reason: outcome.reason,
              }),
      }),
      useErrorMasking(),
      ...plugins,
    ],
  });
}
