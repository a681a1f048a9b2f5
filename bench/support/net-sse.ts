/**
 * A distinct-connections GraphQL-over-SSE subscription read straight off a
 * TCP socket: the request written by hand, the response's headers, chunked
 * framing and SSE events parsed here, with nothing between the socket's
 * `data` event and the parser.
 *
 * Why not node:http (test/support/raw-sse.ts): the subscriptions benchmark
 * reads 10,000 sockets in one process, on the same two CPUs as the gateway,
 * and whatever it spends per event shows up as delivery latency. node:http
 * adds its response parser's callbacks, the IncomingMessage stream and a
 * string decoder to every read; a client on its own machine would pay that in
 * parallel with the others. `--reader http` keeps the node:http reader, to
 * compare the two in the same run.
 *
 * The gateway's events are ASCII (JSON of ids, ISO times and base64url
 * cursors), so the socket is read as latin1: one character per byte, which
 * keeps the chunk sizes (in bytes) and the string lengths the same.
 */
import net from 'node:net';
import { takeSseEvents, type SseEvent } from '../../test/support/raw-sse.js';

export interface NetSseOptions {
  origin: string;
  query: string;
  variables?: Record<string, unknown>;
  onEvent: (event: SseEvent) => void;
  onClose?: (error?: Error) => void;
}

export class NetSseSubscription {
  private readonly socket: net.Socket;
  private head = '';
  private headersDone = false;
  private chunked = false;
  /** Bytes of the current chunk still to come (chunked framing), or -1 while reading a size line. */
  private chunkLeft = -1;
  private framing = '';
  private events = '';
  private closed = false;

  private constructor(
    private readonly options: NetSseOptions,
    opened: (error?: Error) => void,
  ) {
    const url = new URL(options.origin);
    this.socket = net.connect({ host: url.hostname, port: Number(url.port || 80) });
    this.socket.setNoDelay(true);
    this.socket.setEncoding('latin1');
    const body = JSON.stringify({ query: options.query, variables: options.variables ?? {} });
    this.socket.write(
      `POST /graphql HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n` +
        `Accept: text/event-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    this.socket.on('data', (chunk: string) => {
      if (this.headersDone) {
        this.body(chunk);
        return;
      }
      this.head += chunk;
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) return;
      const lines = this.head.slice(0, end).split('\r\n');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1];
      if (status !== '200') {
        opened(new Error(`POST /graphql answered ${status ?? lines[0]}`));
        this.socket.destroy();
        return;
      }
      this.chunked = lines.some((line) => /^transfer-encoding:\s*chunked/i.test(line));
      this.headersDone = true;
      const rest = this.head.slice(end + 4);
      this.head = '';
      opened();
      if (rest) this.body(rest);
    });
    this.socket.on('error', (error) => {
      opened(error);
      if (!this.closed) options.onClose?.(error);
    });
    this.socket.on('close', () => {
      if (!this.closed && this.headersDone) options.onClose?.();
    });
  }

  /** Resolves once the event stream's response headers arrived (the subscription is registered). */
  static open(options: NetSseOptions): Promise<NetSseSubscription> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const subscription: NetSseSubscription = new NetSseSubscription(options, (error) => {
        if (settled) return;
        settled = true;
        if (error) reject(error);
        else resolve(subscription);
      });
    });
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  /** Undoes the chunked framing (`<hex size>\r\n<bytes>\r\n`), then hands the payload to the SSE parser. */
  private body(chunk: string): void {
    if (!this.chunked) {
      this.receive(chunk);
      return;
    }
    let at = 0;
    while (at < chunk.length) {
      if (this.chunkLeft < 0) {
        const lineEnd = chunk.indexOf('\r\n', at);
        if (lineEnd < 0) {
          this.framing += chunk.slice(at);
          return;
        }
        const line = (this.framing + chunk.slice(at, lineEnd)).trim();
        this.framing = '';
        at = lineEnd + 2;
        if (line === '') continue; // the CRLF that ends a chunk's data
        this.chunkLeft = parseInt(line, 16);
        if (this.chunkLeft === 0) return; // the last chunk: the stream ended
        continue;
      }
      const take = Math.min(this.chunkLeft, chunk.length - at);
      this.receive(chunk.slice(at, at + take));
      at += take;
      this.chunkLeft -= take;
      if (this.chunkLeft === 0) this.chunkLeft = -1;
    }
  }

  private receive(text: string): void {
    this.events = takeSseEvents(this.events + text, this.options.onEvent);
  }
}
