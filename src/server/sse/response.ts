import { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ExecutionResult, FormattedExecutionResult } from 'graphql';
import { isAsyncIterable, type FetchAPI, type Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../../schema/context.js';
import { directSocket, encodeChunk } from '../fast-paths/direct-sse-writes.js';
import { claimDirectEvents, type DirectEvents } from './direct-events.js';
import { eventIdOf } from './event-ids.js';

type ResultProcessPayload = Parameters<NonNullable<Plugin<GatewayContext>['onResultProcess']>>[0];
export type ResultProcessor = Parameters<ResultProcessPayload['setResultProcessor']>[0];
type ProcessorInput = ResultProcessPayload['result'];
type SerializableResult = ExecutionResult & { stringify?: (result: ExecutionResult) => string };

const COMMENT = Buffer.from(':\n\n');
const COMPLETE = Buffer.from('event: complete\ndata:\n\n');

/**
 * The distinct-connections SSE response (GraphQL over SSE, as yoga writes it:
 * `event: next` per result, then `event: complete`), built for fan-out to
 * thousands of streams:
 * - the body is a Node Readable, which @whatwg-node/server pipes straight into
 *   the socket: each event is one write, and the next event is pulled from the
 *   subscription only when the socket has drained (backpressure);
 * - an event's bytes are cached per result object, so a result shared by every
 *   subscriber (see ../plugins/shared-subscription-results.ts) is encoded once;
 * - a `:` comment every keepAliveMs while no event went out keeps proxies from
 *   closing it;
 * - a shared event whose result is ready is written by the fan-out itself,
 *   straight to the socket as one pre-framed HTTP chunk that every subscriber
 *   shares (see direct-events.ts; the write itself is ../fast-paths/direct-sse-writes.ts), when nothing else is pending on the
 *   stream and the socket has room; otherwise it takes the way above.
 * Always 200: request errors travel as an event, which EventSource-style
 * clients can read, unlike a 400.
 */
export function createSseProcessor(
  keepAliveMs: number,
  connection?: { request: Request; response: unknown },
  { directWrites = true }: { directWrites?: boolean } = {},
): ResultProcessor {
  return (input: ProcessorInput, fetchAPI: FetchAPI) => {
    // Claimed even when direct writes are off, so the offer does not outlive the request.
    const claimed = connection ? claimDirectEvents(connection.request) : undefined;
    const direct = directWrites ? claimed : undefined;
    const response = connection?.response;
    const stream = new SseStream(
      toIterator(input),
      keepAliveMs,
      direct && response instanceof ServerResponse ? { events: direct, response } : undefined,
    );
    return new fetchAPI.Response(stream.readable as unknown as ReadableStream, {
      status: 200,
      headers: {
        'Content-Type': 'text/event-stream',
        Connection: 'keep-alive',
        'Cache-Control': 'no-cache',
        'Content-Encoding': 'none',
        // nginx-style proxies buffer responses unless told not to.
        'X-Accel-Buffering': 'no',
      },
    });
  };
}

class SseStream {
  readonly readable: Readable;
  private pulling = false;
  private ended = false;
  private readonly keepAlive: NodeJS.Timeout;
  /** An event went out since the last keep-alive tick: the stream is not idle, no comment needed. */
  private sentSinceKeepAlive = false;

  constructor(
    private readonly results: AsyncIterator<SerializableResult>,
    keepAliveMs: number,
    private readonly direct?: { events: DirectEvents; response: ServerResponse },
  ) {
    this.readable = new Readable({
      read: () => this.pull(),
      destroy: (error, callback) => {
        this.stop();
        callback(error);
      },
    });
    // Some browsers only report the response once the first bytes arrive.
    this.readable.push(COMMENT);
    this.keepAlive = setInterval(() => {
      // With ten thousand busy streams, a comment each per interval would be
      // as many extra socket writes, competing with the events for the CPU.
      if (this.sentSinceKeepAlive) {
        this.sentSinceKeepAlive = false;
        return;
      }
      // Only on an idle stream: a client that stopped reading gets no pile of pings.
      if (!this.ended && this.readable.readableLength === 0) this.readable.push(COMMENT);
    }, keepAliveMs);
    direct?.events.source.deliverDirectly((event) => this.writeDirect(event));
  }

  /** Called by the source, only while this stream waits on results.next(): everything before is written. */
  private writeDirect(event: object): boolean {
    if (this.ended || this.readable.readableLength > 0) return false;
    const socket = directSocket(this.direct!.response);
    if (!socket || socket.writableNeedDrain) return false;
    const result = this.direct!.events.readyResult(event);
    if (!result) return false;
    socket.write(encodeChunk(result, encodeEvent));
    this.sentSinceKeepAlive = true;
    return true;
  }

  private pull(): void {
    if (this.pulling || this.ended) return;
    this.pulling = true;
    void this.forward();
  }

  private async forward(): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await this.results.next();
        if (this.ended) return;
        const more = value == null ? true : this.readable.push(encodeEvent(value));
        this.sentSinceKeepAlive = true;
        if (done) {
          this.readable.push(COMPLETE);
          this.readable.push(null);
          this.stop();
          return;
        }
        if (!more) return;
      }
    } catch (error) {
      this.readable.destroy(error instanceof Error ? error : new Error(String(error), { cause: error }));
    } finally {
      this.pulling = false;
    }
  }

  private stop(): void {
    clearInterval(this.keepAlive);
    if (this.ended) return;
    this.ended = true;
    this.direct?.events.source.deliverDirectly(undefined);
    this.results.return?.()?.catch(() => {});
  }
}

const encoded = new WeakMap<object, Buffer>();

export function encodeEvent(result: SerializableResult): Buffer {
  let bytes = encoded.get(result);
  if (!bytes) {
    // The stream cursor as the event's id: a native EventSource resumes from it (event-ids.ts).
    const id = eventIdOf(result);
    bytes = Buffer.from(`${id === undefined ? '' : `id: ${id}\n`}event: next\ndata: ${serialize(result)}\n\n`);
    encoded.set(result, bytes);
  }
  return bytes;
}

/** JSON of a result, without the internals yoga strips too (extensions.http, error http status, unexpected). */
function serialize(result: SerializableResult): string {
  if (!result.errors?.length) return result.stringify ? result.stringify(result) : JSON.stringify(withoutHttp(result));
  return JSON.stringify(publicResult(result));
}

/**
 * A result with errors as a client may see it: each error's JSON without `http` (the status yoga answers
 * with) or `unexpected`. The single-connection stream (graphql-sse's own writer) sends it through this too.
 */
export function publicResult(result: ExecutionResult): FormattedExecutionResult {
  if (!result.errors?.length) return withoutHttp(result) as FormattedExecutionResult;
  const errors = result.errors.map((error) => {
    const json = error.toJSON();
    if (json.extensions) {
      const { http: _http, unexpected: _unexpected, ...extensions } = json.extensions;
      return { ...json, extensions: Object.keys(extensions).length ? extensions : undefined };
    }
    return json;
  });
  const { stringify: _stringify, ...rest } = withoutHttp(result);
  return { ...rest, errors } as FormattedExecutionResult;
}

/** extensions.http tells yoga the status and headers (the response cache's ETag): never part of the body. */
function withoutHttp(result: SerializableResult): SerializableResult {
  if (!result.extensions || !('http' in result.extensions)) return result;
  const { http: _http, ...extensions } = result.extensions;
  return { ...result, extensions: Object.keys(extensions).length > 0 ? extensions : undefined };
}

function toIterator(input: ProcessorInput): AsyncIterator<SerializableResult> {
  if (isAsyncIterable(input)) return input[Symbol.asyncIterator]() as AsyncIterator<SerializableResult>;
  let sent = false;
  return {
    next: async () => {
      if (sent) return { done: true, value: undefined };
      sent = true;
      return { done: false, value: input as SerializableResult };
    },
  };
}
