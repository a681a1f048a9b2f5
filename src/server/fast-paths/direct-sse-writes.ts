import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Direct SSE writes: a shared subscription event whose result is ready is
 * written by the fan-out itself, straight to each subscriber's socket, as one
 * pre-framed HTTP/1.1 chunk that every subscriber shares (see
 * ../sse/direct-events.ts and ../sse/response.ts for the way around it).
 *
 * What it relies on that Node does not promise: ServerResponse's undocumented
 * `_headerSent` and `chunkedEncoding` fields, and that a response with
 * chunked encoding frames its body exactly as written here. If a Node release
 * changes either, test/live-direct-events.test.ts fails. SSE_DIRECT_WRITES=off
 * turns it off; every event then takes the response stream, as it does
 * whenever this path declines.
 */

const CRLF = Buffer.from('\r\n');
const chunks = new WeakMap<object, Buffer>();

/** An event framed as one HTTP/1.1 chunk (the response uses chunked encoding), to write to the socket as is. */
export function encodeChunk<Result extends object>(result: Result, encodeEvent: (result: Result) => Buffer): Buffer {
  let bytes = chunks.get(result);
  if (!bytes) {
    const event = encodeEvent(result);
    bytes = Buffer.concat([Buffer.from(`${event.length.toString(16)}\r\n`), event, CRLF]);
    chunks.set(result, bytes);
  }
  return bytes;
}

/**
 * The response's socket, if bytes written to it now land right after what the
 * response wrote: its headers are out, it holds nothing back (a response still
 * queued behind a pipelined one buffers its output), and it frames chunks.
 */
export function directSocket(response: ServerResponse): Socket | undefined {
  const socket = response.socket;
  if (!socket?.writable || response.writableEnded || !response.chunkedEncoding) return undefined;
  // Node sends the headers with the first write; `headersSent` turns true before that.
  if ((response as ServerResponse & { _headerSent?: boolean })._headerSent !== true) return undefined;
  if (response.writableLength !== socket.writableLength) return undefined;
  return socket;
}
