import {
  createServer,
  maxHeaderSize,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorCode } from '../../errors.js';
import type { RefusedRequest } from '../../observability/access-log.js';
import { errorBody } from './error-response.js';
import type { Gateway } from './gateway.js';

export type { RefusedRequest };

export interface Listening {
  server: Server;
  url: string;
  /** Resolves once every connection is closed, with how many responses the grace period's end cut. */
  close(): Promise<{ cut: number }>;
}

export interface HttpTimeouts {
  /** Most time a client may take to send a whole request (headers and body): slow-loris. */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** On close, how long requests already running may take before their connections are cut. */
  shutdownGraceMs?: number;
}

export async function listen(
  gateway: Gateway,
  port: number,
  host: string,
  timeouts: HttpTimeouts = { requestTimeoutMs: 30_000, headersTimeoutMs: 10_000 },
  onRefused: (refused: RefusedRequest) => void = () => {},
): Promise<Listening> {
  // Node checks both timeouts on this interval (30 s by default): a tighter check keeps them close to their value.
  const connectionsCheckingInterval = Math.min(5000, Math.max(100, Math.floor(timeouts.requestTimeoutMs / 4)));
  const handle: RequestListener = gateway;
  const open = new Set<ServerResponse>();
  const connections = new PipelinedRequests();
  const server = createServer({ connectionsCheckingInterval }, (request, response) => {
    open.add(response);
    response.once('close', () => open.delete(response));
    // RFC 9112 3.2.2: a server must accept the absolute form (`GET http://host/graphql`), which the fetch adapter
    // appended to the Host header as a path (404).
    if (request.url !== undefined && /^https?:\/\//i.test(request.url)) request.url = originForm(request.url);
    if (!hasParsableUrl(request)) {
      refuseUnparsableUrl(request, response);
      onRefused({
        status: 400,
        method: request.method ?? null,
        path: (request.url ?? '').split('?')[0]!.slice(0, 200),
        reason: 'the Host header and the request target do not form a URL',
      });
      return;
    }
    const type = request.headers['content-type'];
    if (type !== undefined && !CANONICAL_MEDIA_TYPE.test(type))
      request.headers['content-type'] = canonicalMediaType(type);
    connections.run(request, response, () => void handle(request, response));
  });
  // requestTimeout covers receiving the request only, so it never cuts an SSE response however long it
  // streams; a client that declares Content-Length: 1000 and sends 10 bytes is answered 408 and closed.
  server.requestTimeout = timeouts.requestTimeoutMs;
  server.headersTimeout = Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs);
  server.keepAliveTimeout = 65_000;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const refused = answerClientError(error, socket);
    if (refused) onRefused(refused);
  });
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
    close: () => closeGracefully(server, open, timeouts.shutdownGraceMs ?? 0),
  };
}

/**
 * HTTP/1.1 pipelining: Node parses every request a client writes without waiting for the answers and hands
 * each to the handler at once (it only orders the responses). One connection that wrote 2,000 groupings ran
 * them all at once (1.5 GB, every pooled connection taken). A connection now runs at most MAX_RUNNING requests
 * at a time; the next wait their turn, and a client more than MAX_WAITING ahead of its answers is disconnected.
 * Browsers and HTTP clients do not pipeline, so none of them waits here.
 */
class PipelinedRequests {
  static readonly MAX_RUNNING = 6;
  static readonly MAX_WAITING = 64;
  readonly #bySocket = new WeakMap<object, { running: number; waiting: (() => void)[] }>();

  run(request: IncomingMessage, response: ServerResponse, start: () => void): void {
    const socket = request.socket;
    const current = this.#bySocket.get(socket) ?? { running: 0, waiting: [] };
    this.#bySocket.set(socket, current);
    const begin = () => {
      current.running += 1;
      response.once('close', () => {
        current.running -= 1;
        current.waiting.shift()?.();
      });
      start();
    };
    if (current.running < PipelinedRequests.MAX_RUNNING) return begin();
    if (current.waiting.length >= PipelinedRequests.MAX_WAITING) {
      socket.destroy();
      return;
    }
    current.waiting.push(begin);
  }
}

/**
 * Stops accepting connections, lets requests already running finish (a page waiting on a lock, a slow
 * aggregate) for up to `graceMs`, and only then cuts what is left: cutting at once answered them with nothing
 * (curl: "Empty reply from server") while the log said 200. Connections with nothing running are closed at
 * once and as each response ends. Event streams still open end cleanly (their final chunk): by now the live
 * feed has sent each operation its SHUTTING_DOWN and `complete` (main.ts stops it first), and a
 * single-connection stream would otherwise stay open, waiting for operations that will not come.
 */
function closeGracefully(server: Server, open: Set<ServerResponse>, graceMs: number): Promise<{ cut: number }> {
  return new Promise((resolve) => {
    let cut = 0;
    server.close(() => {
      clearInterval(idleSweep);
      clearTimeout(deadline);
      resolve({ cut });
    });
    const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
    const deadline = setTimeout(() => {
      cut = open.size;
      server.closeAllConnections();
    }, graceMs);
    server.closeIdleConnections();
    // A moment for events already queued on their way out (the SHUTTING_DOWN just sent) to be written.
    setTimeout(
      () => {
        for (const response of open) if (isEventStream(response)) endEventStream(response);
      },
      Math.min(100, graceMs),
    ).unref();
  });
}

/**
 * The fetch adapter writes its headers with writeHead(status, headers), which Node does not keep for
 * getHeader(); the header block it sent is in the undocumented `_header` (test/graceful-shutdown.test.ts
 * fails if a Node release drops it: streams would then be cut at the deadline, as before).
 */
function isEventStream(response: ServerResponse): boolean {
  if (!response.headersSent) return false;
  const sent = (response as unknown as { _header?: unknown })._header;
  const type = typeof sent === 'string' ? sent : String(response.getHeader('content-type') ?? '');
  return /(?:^|\n)content-type:\s*text\/event-stream/i.test(type) || /^text\/event-stream/i.test(type);
}

function endEventStream(response: ServerResponse): void {
  // What was piping the stream into the response may still try to write (a keep-alive comment): that write
  // fails quietly instead of as an unhandled 'error'.
  response.on('error', () => {});
  response.end();
}

/** The path and query of an absolute-form request target; `/` when it has none or does not parse. */
function originForm(target: string): string {
  try {
    const url = new URL(target);
    return `${url.pathname}${url.search}`;
  } catch {
    return '/';
  }
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
  const body = errorBody(
    `the Host header ${host} and the request target do not form a URL; send the server's host name (and port)`,
    'BAD_REQUEST' satisfies ErrorCode,
  );
  response.writeHead(400, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}

/**
 * Requests Node's parser refuses before any handler runs. Left to Node, a GET whose URL and headers pass 16 KB
 * (a long persisted query or variables in the URL) got `431` with no body and no access-log line, and a
 * malformed request line a bare `400`. They get the same answers with a JSON body that says what was wrong, as
 * every other refusal does. A timeout keeps Node's own 408 (sent-status.ts reads it from the socket's error).
 * As Node does, nothing is written when part of a response already was: the client would read it as that
 * response's continuation.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): RefusedRequest | null {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  const canAnswer = socket.writable && !inFlight?.headersSent;
  const refusal = clientErrorAnswer(error.code);
  if (canAnswer) {
    const body = errorBody(refusal.message, refusal.code);
    socket.write(
      `HTTP/1.1 ${refusal.status} ${refusal.statusText}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
  // A reset is no request; a request already handed to the gateway gets its access-log line there; a
  // connection that sent nothing before its timeout (a browser's preconnect, a TCP health check) is no request.
  if (error.code === 'ECONNRESET' || !canAnswer || inFlight) return null;
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT' && (socket as { bytesRead?: number }).bytesRead === 0) return null;
  return { status: refusal.status, method: null, path: null, reason: refusal.message };
}

function clientErrorAnswer(code: string | undefined): {
  status: number;
  statusText: string;
  code: ErrorCode;
  message: string;
} {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        statusText: 'Request Header Fields Too Large',
        code: 'BAD_REQUEST' satisfies ErrorCode,
        message:
          `the request line and headers exceed ${maxHeaderSize} bytes; send a long query or long variables ` +
          'in a POST body, or use a persisted operation (documentId)',
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return {
        status: 413,
        statusText: 'Payload Too Large',
        code: 'REQUEST_ENTITY_TOO_LARGE' satisfies ErrorCode,
        message: 'a chunk of the body carries more than 16 KB of chunk extensions',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        statusText: 'Request Timeout',
        code: 'BAD_REQUEST' satisfies ErrorCode,
        message: 'the request did not arrive in time (HTTP_REQUEST_TIMEOUT_MS)',
      };
    default:
      return {
        status: 400,
        statusText: 'Bad Request',
        code: 'BAD_REQUEST' satisfies ErrorCode,
        message: `the request is not valid HTTP/1.1 (${code ?? 'unparsable'})`,
      };
  }
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
