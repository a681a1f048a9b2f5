import { ServerResponse } from 'node:http';
import { useGraphQLSSE } from '@graphql-yoga/plugin-graphql-sse';
import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../schema/context.js';

export const STREAM_ENDPOINT = '/graphql/stream';
const TOKEN_HEADER = 'x-graphql-event-stream-token';
const TOKEN_QUERY = 'token';

/**
 * Both modes of the GraphQL over SSE protocol, for every subscription:
 * - distinct connections on /graphql: yoga's own SSE (one stream per operation);
 * - single connection on /graphql/stream: graphql-sse's handler, where one
 *   event stream carries many operations (distinct connections work there too).
 * Both send a `:` comment every 12 s, which keeps idle streams open through
 * proxies (Node's own request timeouts are disabled in server/http.ts).
 *
 * Backpressure: yoga's SSE pulls the next event only when the socket has
 * drained, so a slow reader leaves rows in its subscriber's bounded queue. The
 * graphql-sse handler instead pulls every operation eagerly into an unbounded
 * per-stream queue; the onNext hook below makes it wait while the stream's
 * socket has not drained, so the bound applies in that mode as well.
 */
export function useSseTransports(): Plugin<GatewayContext>[] {
  const byToken = new Map<string, ServerResponse>();
  const byRequest = new WeakMap<Request, ServerResponse>();

  const trackStreams: Plugin<GatewayContext> = {
    onRequest({ request, serverContext }) {
      const path = request.url.split('?')[0] ?? '';
      if (!path.endsWith(STREAM_ENDPOINT)) return;
      const response = (serverContext as { res?: unknown } | undefined)?.res;
      if (!(response instanceof ServerResponse)) return;
      byRequest.set(request, response);
      const accept = request.headers.get('accept') ?? '';
      const token = streamToken(request);
      if (token && accept.includes('text/event-stream') && request.method !== 'DELETE') {
        byToken.set(token, response);
        response.once('close', () => {
          if (byToken.get(token) === response) byToken.delete(token);
        });
      }
    },
  };

  const graphqlSse = useGraphQLSSE({
    endpoint: STREAM_ENDPOINT,
    onNext: async (_ctx, req) => {
      const token = streamToken(req.raw);
      const stream = (token ? byToken.get(token) : undefined) ?? byRequest.get(req.raw);
      if (stream) await drained(stream);
    },
  }) as Plugin<GatewayContext>;

  return [trackStreams, graphqlSse];
}

function streamToken(request: Request): string | undefined {
  const header = request.headers.get(TOKEN_HEADER);
  if (header) return header;
  const query = request.url.indexOf('?');
  return query < 0 ? undefined : (new URLSearchParams(request.url.slice(query + 1)).get(TOKEN_QUERY) ?? undefined);
}

/** Resolves when the response has room for more, or can never take more. */
function drained(response: ServerResponse): Promise<void> | undefined {
  if (!response.writableNeedDrain || response.destroyed || response.writableEnded) return undefined;
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}
