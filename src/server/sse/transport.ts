import { randomUUID } from 'node:crypto';
import { ServerResponse } from 'node:http';
import { getOperationAST, GraphQLError, type DocumentNode, type ExecutionResult } from 'graphql';
import { createHandler } from 'graphql-sse/lib/use/fetch';
import { isAsyncIterable, type FetchAPI, type Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../../schema/context.js';
import type { ErrorCode } from '../../errors.js';
import { errorResponse } from '../http/error-response.js';
import { postBodyRefusal } from '../http/post-body.js';
import { canonicalDocument } from './persisted-only.js';
import { MAX_OPERATIONS_UNOPENED, StreamReservations } from './reservations.js';
import { WaitingResults } from './waiting-results.js';
import { DEFAULT_MAX_REQUEST_BODY_BYTES, declaredLengthProblem } from '../plugins/body-limit.js';
import { operationNameProblem } from '../plugins/request-guards.js';
import { explainStreamRefusal } from './refusals.js';
import { createSseProcessor, publicResult } from './response.js';

export const STREAM_ENDPOINT = '/graphql/stream';
/** The same stream for token callers behind the Databricks Apps proxy (only /api/ paths reach the app). */
export const API_STREAM_ENDPOINT = '/api/graphql/stream';
const TOKEN_HEADER = 'x-graphql-event-stream-token';
const TOKEN_QUERY = 'token';

/**
 * Both modes of the GraphQL over SSE protocol, serving any subscription:
 * - distinct connections on /graphql: yoga's SSE, with the response written by
 *   response.ts (one stream per operation);
 * - single connection on /graphql/stream: graphql-sse's protocol handler, where
 *   one event stream carries many operations (distinct connections work there too).
 * /api/graphql and /api/graphql/stream serve exactly the same, for OAuth token
 * callers behind the Databricks Apps proxy (it forwards only /api/ paths to them).
 * Both send `:` comments while idle (every keepAliveMs on /graphql, every 12 s
 * on /graphql/stream, graphql-sse's fixed interval), which keeps streams open
 * through proxies (Node's request timeouts are disabled in server/http/listen.ts).
 *
 * Request errors (an invalid document, mistyped variables, a bad cursor) reach
 * an SSE client as an error event followed by `complete` in both modes, as the
 * graphql-sse protocol prescribes for event streams, not as a bare HTTP 400
 * that EventSource-style clients cannot read.
 *
 * Backpressure: on /graphql the next event is pulled only once the socket has
 * drained, so a slow reader leaves rows in its subscriber's bounded queue. The
 * graphql-sse handler pulls every operation eagerly into an unbounded
 * per-stream queue; onNext below waits while the stream's socket is full, so
 * the bound holds in that mode too.
 *
 * /graphql/stream is @graphql-yoga/plugin-graphql-sse's wiring with two
 * changes: the plugin returns request errors as `{ errors }` without `data`,
 * which graphql-sse's handler does not recognise as a result (it answers 400
 * "Unable to detect operation AST"), and it has no backpressure.
 */
export function useSseTransports(options: {
  keepAliveMs: number;
  /** MAX_REQUEST_BODY_BYTES, which graphql-sse's handler (answered before yoga's parser) would not enforce. */
  maxRequestBodyBytes?: number;
  reservationTtlMs?: number;
  /** Bound on /graphql/stream reservations (opened or not) per client; none when absent. */
  streamsPerClient?: StreamsPerClient;
  directWrites?: boolean;
  /** PERSISTED_OPERATIONS=only: the manifest's documents (persisted-only.ts); every document runs when absent. */
  persistedOnly?: ReadonlySet<string>;
}): Plugin<GatewayContext>[] {
  return [
    useEventStreamResponses(options.keepAliveMs, options.directWrites ?? true),
    useGraphQLSseProtocol(
      options.reservationTtlMs ?? 30_000,
      options.streamsPerClient,
      options.maxRequestBodyBytes ?? DEFAULT_MAX_REQUEST_BODY_BYTES,
      options.persistedOnly,
    ),
  ];
}

export interface StreamsPerClient {
  max: number;
  /** The identity per-client limits use (client-limits.ts). */
  identity: (request: Request, serverContext: unknown) => string;
}

/** Picks response.ts wherever yoga would answer with its own SSE, and for request errors asked as SSE. */
function useEventStreamResponses(keepAliveMs: number, directWrites: boolean): Plugin<GatewayContext> {
  return {
    onResultProcess({ request, result, setResultProcessor, serverContext }) {
      if (Array.isArray(result)) return;
      // A single result goes out as SSE only when the client accepts nothing else: without "event-stream" in
      // Accept that cannot be, and most requests are answered without parsing the header.
      if (!isAsyncIterable(result) && !/event-stream/i.test(request.headers.get('accept') ?? '')) return;
      const accepted = mediaTypes(request);
      const streamable = accepted.some((type) => type === 'text/event-stream' || type === 'text/*' || type === '*/*');
      const onlyEventStream = accepted.length > 0 && accepted.every((type) => type === 'text/event-stream');
      if ((isAsyncIterable(result) && streamable) || onlyEventStream) {
        const response = (serverContext as { res?: unknown } | undefined)?.res;
        setResultProcessor(
          createSseProcessor(keepAliveMs, { request, response }, { directWrites }),
          'text/event-stream',
        );
      }
    },
  };
}

function mediaTypes(request: Request): string[] {
  return (request.headers.get('accept') ?? '*/*')
    .split(',')
    .map((part) => part.split(';')[0]!.trim().toLowerCase())
    .filter((type) => type !== '');
}

/**
 * graphql-sse keeps a reservation (PUT) until its stream is opened, and queues
 * every event of the operations sent to it meanwhile, without bound; a client
 * that reserves and never connects would keep both forever, and one client
 * could reserve without end. reservations.ts bounds both: per client (429
 * TOO_MANY_STREAMS past `streamsPerClient.max`, until one of its streams
 * closes or one of its reservations expires) and in time. A reservation not
 * connected within `reservationTtlMs` is dropped by opening its stream and
 * cancelling it at once, which makes graphql-sse end its operations and forget
 * the token (it has no other way in). A client connecting later gets the
 * distinct-connections answer for an unknown token.
 */
function useGraphQLSseProtocol(
  reservationTtlMs: number,
  perClient: StreamsPerClient | undefined,
  maxBodyBytes: number,
  persistedOnly: ReadonlySet<string> | undefined,
): Plugin<GatewayContext> {
  const byToken = new Map<string, ServerResponse>();
  const waiting = new WaitingResults();
  const byRequest = new WeakMap<Request, ServerResponse>();
  const serverContexts = new WeakMap<Request, Record<string, unknown>>();
  let handler: ((request: Request) => Promise<Response>) | undefined;
  let yogaFetch: FetchAPI;
  const reservations = new StreamReservations({
    maxPerClient: perClient?.max ?? Number.POSITIVE_INFINITY,
    ttlMs: reservationTtlMs,
    drop: (token) => {
      if (!handler) return;
      void handler(
        new yogaFetch.Request(`http://gateway${STREAM_ENDPOINT}`, {
          method: 'GET',
          headers: { accept: 'text/event-stream', [TOKEN_HEADER]: token },
        }),
      ).then((stream) => stream.body?.cancel());
    },
  });

  return {
    onYogaInit({ yoga }) {
      yogaFetch = yoga.fetchAPI;
      handler = createHandler(
        {
          // A token is the only credential to a reservation's stream: whoever opens it first receives the events
          // of every operation sent to it. graphql-sse's default made tokens from Math.random (whose state can be
          // recovered from a few outputs, and every client sees its own tokens) and took a PUT's token from the
          // client when it sent one. Here the server always chooses, from the CSPRNG; the other methods name one.
          // An empty string is no stream: graphql-sse then answers as for a token it does not know.
          authenticate: (req) => (req.method === 'PUT' ? randomUUID() : (streamToken(req.raw) ?? '')),
          onSubscribe: async (req, params) => {
            const enveloped = yoga.getEnveloped({ ...serverContexts.get(req.raw), request: req.raw, params });
            let document: DocumentNode;
            try {
              document = enveloped.parse(params.query);
            } catch (error) {
              return requestError(error);
            }
            if (persistedOnly && !persistedOnly.has(canonicalDocument(document))) {
              return requestError(
                new GraphQLError(
                  'this gateway only runs persisted operations: send one of the documents of its manifest',
                  { extensions: { code: 'PERSISTED_QUERY_ONLY' satisfies ErrorCode } },
                ),
              );
            }
            let errors: readonly GraphQLError[];
            try {
              errors = enveloped.validate(enveloped.schema, document);
            } catch (error) {
              // The document limits (aliases, directives, depth) refuse by throwing from validation; yoga answers
              // that on /graphql, but here it escaped graphql-sse's handler as a 500 carrying the stack trace.
              return requestError(error);
            }
            if (errors.length > 0) return { data: null, errors: errors.map(withoutHttpStatus) };
            const contextValue = await enveloped.contextFactory();
            const args = {
              schema: enveloped.schema,
              document,
              contextValue,
              variableValues: params.variables,
              operationName: params.operationName,
            };
            const operation = getOperationAST(document, params.operationName);
            const result: ExecutionResult | AsyncIterable<ExecutionResult> = await (
              operation?.operation === 'subscription' ? enveloped.subscribe : enveloped.execute
            )(args);
            if (isAsyncIterable(result) || 'data' in result) return result;
            return { ...result, data: null, errors: result.errors?.map(withoutHttpStatus) };
          },
          onNext: async (_ctx, req, result) => {
            const token = streamToken(req.raw);
            const stream = (token ? byToken.get(token) : undefined) ?? byRequest.get(req.raw);
            if (stream) await waiting.untilDrained(stream);
            // graphql-sse writes the result's JSON itself: errors would carry extensions.http (yoga's status).
            const { errors } = result as ExecutionResult;
            // Formatted errors are plain JSON, which is all graphql-sse does with them.
            if (errors?.length) return publicResult(result as ExecutionResult) as unknown as ExecutionResult;
            return undefined;
          },
        },
        yoga.fetchAPI,
      );
    },
    onRequest({ request, serverContext, endResponse }) {
      // Every request passes here: parse the URL only for one that can be a stream request.
      if (!mayBeStreamPath(request.url)) return;
      const path = new URL(request.url, 'http://gateway').pathname;
      if ((path !== STREAM_ENDPOINT && path !== API_STREAM_ENDPOINT) || !handler) return;
      // graphql-sse answers HEAD like GET when it asks for an event stream: a HEAD naming a reservation opened
      // its stream (so the real GET got 409 and the events went to a response without a body), and its headers
      // waited for the first event. HEAD is answered as graphql-sse answers it for any other Accept.
      if (request.method === 'HEAD') {
        return endResponse(new yogaFetch.Response(null, { status: 405, headers: { allow: 'GET, POST, PUT, DELETE' } }));
      }
      serverContexts.set(request, (serverContext ?? {}) as Record<string, unknown>);
      if (request.method === 'PUT') {
        const client = perClient?.identity(request, serverContext) ?? '';
        const held = reservations.refusal(client);
        if (held !== undefined) {
          return endResponse(
            errorResponse(
              429,
              `this client already holds ${held} ${STREAM_ENDPOINT} reservations or streams, the most allowed per client ` +
                '(MAX_STREAMS_PER_CLIENT); close one of its streams, or let an unopened reservation expire, first',
              'TOO_MANY_STREAMS',
            ),
          );
        }
        return handler(request).then(async (response) => {
          if (response.status !== 201) return endResponse(await explainStreamRefusal(response, path, request.method));
          const token = await response.text();
          reservations.reserved(token, client);
          endResponse(new yogaFetch.Response(token, { status: 201, headers: response.headers }));
        });
      }
      const token = streamToken(request);
      const handle = handler;
      const forward = () => {
        const accept = request.headers.get('accept') ?? '';
        // A request for an unopened reservation's stream: its expiry waits for the answer.
        const opening =
          token !== undefined && accept.includes('text/event-stream') && reservations.opening(token)
            ? token
            : undefined;
        const response = (serverContext as { res?: unknown } | undefined)?.res;
        if (response instanceof ServerResponse) {
          byRequest.set(request, response);
          if (token && accept.includes('text/event-stream')) {
            byToken.set(token, response);
            response.once('close', () => {
              if (byToken.get(token) === response) byToken.delete(token);
            });
          }
        }
        return handle(request).then(
          async (answer) => {
            if (opening !== undefined) {
              const opened =
                answer.status === 200 && Boolean(answer.headers.get('content-type')?.startsWith('text/event-stream'));
              reservations.opened(opening, opened);
              // The stream ends when its client goes away: the server aborts the request's signal (graphql-sse
              // disposes of the stream on the same signal).
              if (opened) onceAborted(request.signal, () => reservations.closed(opening));
            }
            endResponse(answer.status < 400 ? answer : await explainStreamRefusal(answer, path, request.method));
          },
          (error: unknown) => {
            if (opening !== undefined) reservations.opened(opening, false);
            throw error;
          },
        );
      };
      if (request.method === 'POST') {
        const refused = postBodyRefusal(request.headers);
        if (refused) return endResponse(refused);
        const tooLarge = bodyOverLimit(request, maxBodyBytes);
        if (tooLarge) return endResponse(tooLarge);
        if (token !== undefined && !reservations.admitsOperation(token)) {
          return endResponse(
            errorResponse(
              429,
              `this reservation already holds ${MAX_OPERATIONS_UNOPENED} operations and its stream is not open: ` +
                `open it (GET ${path} with the token) before sending more`,
              'TOO_MANY_STREAMS',
            ),
          );
        }
      }
      // Every POST (an operation for a reservation, or a distinct connection's own); a DELETE names a reservation.
      if (request.method === 'POST' || (token !== undefined && request.method === 'DELETE')) {
        return operationRefusal(request, token !== undefined).then((refusal) =>
          refusal === undefined ? forward() : endResponse(errorResponse(400, refusal, 'BAD_REQUEST')),
        );
      }
      return forward();
    },
  };
}

/**
 * False only for URLs whose path cannot be either stream endpoint: its last segment is not `stream`
 * (URL normalisation removes dot segments, which leaves a trailing slash, and decodes nothing in a path).
 */
function mayBeStreamPath(url: string): boolean {
  let end = url.length;
  const query = url.indexOf('?');
  if (query >= 0) end = query;
  const fragment = url.indexOf('#');
  if (fragment >= 0 && fragment < end) end = fragment;
  return url.endsWith('stream', end);
}

function onceAborted(signal: AbortSignal, then: () => void): void {
  if (signal.aborted) then();
  else signal.addEventListener('abort', then, { once: true });
}

function withoutHttpStatus(error: GraphQLError): GraphQLError {
  const { http: _http, ...extensions } = error.extensions ?? {};
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions,
  });
}

function requestError(error: unknown): ExecutionResult {
  const graphqlError = error instanceof GraphQLError ? error : new GraphQLError(String(error));
  return { data: null, errors: [withoutHttpStatus(graphqlError)] };
}

const MAX_OPERATION_ID = 128;

/**
 * Why an operation sent to (POST) or stopped on (DELETE) a reservation's stream names an operation id graphql-sse
 * would mishandle, if it does: it coerces any JSON value to a string (`5`, `"[object Object]"`), echoes an id of
 * any length in every event of the operation, and keeps operations in a plain object, where `constructor` is
 * taken ("Operation with ID already exists"). And an operationName that is not a string, which graphql-sse passed
 * on to fail as an event. Anything else about the request is left to graphql-sse to answer.
 */
async function operationRefusal(request: Request, reserved: boolean): Promise<string | undefined> {
  let id: unknown;
  let where: string;
  if (request.method === 'DELETE') {
    where = 'operationId';
    const query = request.url.indexOf('?');
    id = query < 0 ? undefined : (new URLSearchParams(request.url.slice(query + 1)).get('operationId') ?? undefined);
  } else {
    where = 'extensions.operationId';
    let body: { extensions?: { operationId?: unknown }; operationName?: unknown } | null;
    try {
      body = JSON.parse(await request.clone().text()) as typeof body;
    } catch {
      return undefined;
    }
    id = typeof body?.extensions === 'object' ? body.extensions?.operationId : undefined;
    // As /graphql answers it, not with an event saying no operation could be determined.
    const nameProblem = operationNameProblem(body?.operationName);
    if (nameProblem !== undefined) return nameProblem;
    // A distinct connection's operation has no id to check.
    if (!reserved) return undefined;
  }
  if (id === undefined) return undefined;
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_OPERATION_ID) {
    const kind = typeof id;
    const given =
      kind === 'string'
        ? `${(id as string).length} characters`
        : id === null
          ? 'null'
          : `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind}`;
    return `${where}: must be a string of 1 to ${MAX_OPERATION_ID} characters, but got ${given}`;
  }
  if (Object.hasOwn(Object.prototype, id)) {
    return `${where}: "${id}" cannot name an operation (it is a member of every JavaScript object); use another id`;
  }
  return undefined;
}

/** The form of every token the gateway issues (`randomUUID`). */
const TOKEN_FORM = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * The reservation a request names, when it names one in the form the gateway issues. Anything else names
 * none: graphql-sse looks tokens up in a plain object, where `constructor` or `__proto__` would find
 * Object's own members and its handler would throw on them.
 */
function streamToken(request: Request): string | undefined {
  const query = request.url.indexOf('?');
  const token =
    request.headers.get(TOKEN_HEADER) ||
    (query < 0 ? undefined : new URLSearchParams(request.url.slice(query + 1)).get(TOKEN_QUERY));
  return token && TOKEN_FORM.test(token) ? token : undefined;
}

/** Resolves when the response has room for more, or never will. */
/**
 * A body over MAX_REQUEST_BODY_BYTES, answered 413 as /graphql answers it; graphql-sse would read any size (a
 * 100 MB POST took 330 MB). The length must be declared: graphql-sse reads a body whole before anything here
 * could count it, so a chunked one (which no graphql-sse client sends) is refused with 411.
 */
function bodyOverLimit(request: Request, limit: number): Response | undefined {
  switch (declaredLengthProblem(request.headers, limit)) {
    case undefined:
      return undefined;
    case 'missing':
      return errorResponse(
        411,
        `send operations to ${STREAM_ENDPOINT} with a Content-Length (at most MAX_REQUEST_BODY_BYTES, ${limit} bytes)`,
        'BAD_REQUEST',
      );
    case 'invalid':
      return errorResponse(400, 'Content-Length header is invalid', 'BAD_REQUEST');
    case 'too large':
      return errorResponse(413, `Request body too large: the limit is ${limit} bytes`, 'REQUEST_ENTITY_TOO_LARGE');
  }
}
