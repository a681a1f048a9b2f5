import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { ErrorCode } from '../../errors.js';
import type { Gateway } from './gateway.js';

export interface Listening {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export interface HttpTimeouts {
  /** Most time a client may take to send a whole request (headers and body): slow-loris. */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
}

export async function listen(
  gateway: Gateway,
  port: number,
  host: string,
  timeouts: HttpTimeouts = { requestTimeoutMs: 30_000, headersTimeoutMs: 10_000 },
): Promise<Listening> {
  // Node checks both timeouts on this interval (30 s by default): a tighter check keeps them close to their value.
  const connectionsCheckingInterval = Math.min(5000, Math.max(100, Math.floor(timeouts.requestTimeoutMs / 4)));
  const handle: RequestListener = gateway;
  const server = createServer({ connectionsCheckingInterval }, (request, response) => {
    if (!hasParsableUrl(request)) {
      refuseUnparsableUrl(request, response);
      return;
    }
    const type = request.headers['content-type'];
    if (type !== undefined && !CANONICAL_MEDIA_TYPE.test(type))
      request.headers['content-type'] = canonicalMediaType(type);
    void handle(request, response);
  });
  // requestTimeout covers receiving the request only, so it never cuts an SSE response however long it
  // streams; a client that declares Content-Length: 1000 and sends 10 bytes is answered 408 and closed.
  server.requestTimeout = timeouts.requestTimeoutMs;
  server.headersTimeout = Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    server,
    url: `http://${shownHost}:${actualPort}/graphql`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The fetch adapter (whatwg-node) makes each request's URL from `http://<Host header><request target>` and
 * answered one that does not parse (`Host: x:99999`, `Host: a b`, `[::1`) with a 500 carrying its stack trace.
 */
function hasParsableUrl(request: IncomingMessage): boolean {
  return URL.canParse(`http://${request.headers.host ?? 'localhost'}${request.url ?? ''}`);
}

function refuseUnparsableUrl(request: IncomingMessage, response: ServerResponse): void {
  const host = JSON.stringify((request.headers.host ?? '').slice(0, 100));
  const body = JSON.stringify({
    errors: [
      {
        message: `the Host header ${host} and the request target do not form a URL; send the server's host name (and port)`,
        extensions: { code: 'BAD_REQUEST' satisfies ErrorCode },
      },
    ],
  });
  response.writeHead(400, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}

/** A media type as clients usually send it: lower case, parameters (if any) straight after a semicolon. */
const CANONICAL_MEDIA_TYPE = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(?:;(?: ?[^\s;]+)+)*$/;

/**
 * Media types are case-insensitive and may have spaces around their semicolons (RFC 9110, 8.3.1), but yoga and
 * graphql-sse compare `application/json` as written: `Application/Json` or `application/json ; charset=utf-8`
 * were refused with 415. The type is lower-cased and the spaces dropped; parameter values are kept as sent.
 */
function canonicalMediaType(value: string): string {
  const [type = '', ...parameters] = value.split(';');
  return [type.trim().toLowerCase(), ...parameters.map((parameter) => parameter.trim()).filter(Boolean)].join(';');
}
