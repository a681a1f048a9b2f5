import { randomUUID } from 'node:crypto';
import { Kind, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logger.js';
import { sentStatus } from './sent-status.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const ids = new WeakMap<Request, string>();

/**
 * The request's id: the caller's X-Request-Id when it is a plain token,
 * otherwise a new UUID. The same for the access log line, the GraphQL context
 * (masked errors carry it) and the X-Request-Id response header.
 */
export function requestIdOf(request: Request): string {
  let id = ids.get(request);
  if (id === undefined) {
    const header = request.headers.get('x-request-id');
    id = header && REQUEST_ID.test(header) ? header : randomUUID();
    ids.set(request, id);
  }
  return id;
}

/**
 * One JSON line per request: request id, method, path, status, operation
 * name and type, duration in ms. For an event stream the duration is the time
 * to its first byte (the stream itself may last hours).
 */
export function useAccessLog(logger: Logger): Plugin {
  const started = new WeakMap<Request, number>();
  const operations = new WeakMap<Request, string>();
  /** The operation's name from the document, when the request did not name it. */
  const noteOperation = (args: { contextValue: unknown; document: DocumentNode }) => {
    const request = (args.contextValue as { request?: Request }).request;
    if (!request || operations.has(request)) return;
    for (const definition of args.document.definitions) {
      if (definition.kind === Kind.OPERATION_DEFINITION && definition.name) {
        operations.set(request, definition.name.value.slice(0, 100));
        return;
      }
    }
  };
  return {
    onRequest({ request }) {
      started.set(request, performance.now());
      requestIdOf(request);
    },
    onParams({ params, request }) {
      // Before yoga's own parameter check: a client may send any JSON value as operationName.
      if (typeof params.operationName === 'string' && params.operationName !== '')
        operations.set(request, params.operationName.slice(0, 100));
    },
    onExecute: ({ args }) => noteOperation(args),
    onSubscribe: ({ args }) => noteOperation(args),
    onResponse({ request, response, serverContext }) {
      const start = started.get(request);
      const id = requestIdOf(request);
      if (!response.headers.has('x-request-id')) response.headers.set('x-request-id', id);
      const path = request.url
        .replace(/^[a-z]+:\/\/[^/]+/i, '')
        .split('?')[0]!
        .slice(0, 200);
      logger.info('request', {
        requestId: id,
        method: request.method,
        path,
        status: sentStatus(request, response, serverContext),
        operationName: operations.get(request) ?? null,
        durationMs: start === undefined ? null : Math.round((performance.now() - start) * 10) / 10,
      });
    },
  };
}

/** A request the HTTP server answered itself, before the gateway saw it (server/http/listen.ts). */
export interface RefusedRequest {
  status: number;
  /** Null when the request line itself could not be parsed. */
  method: string | null;
  path: string | null;
  reason: string;
}

/**
 * The access-log line of a request the HTTP server refused before the gateway saw it (a Host header that makes
 * no URL, headers over Node's size limit, a request line that is not HTTP): the same fields, so an operator
 * filtering the log by status sees them, with the reason, since no X-Request-Id was read.
 */
export function logRefusedRequest(logger: Logger): (refused: RefusedRequest) => void {
  return (refused) =>
    logger.info('request', {
      requestId: null,
      method: refused.method,
      path: refused.path,
      status: refused.status,
      operationName: null,
      durationMs: null,
      refused: refused.reason,
    });
}
