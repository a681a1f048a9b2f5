/**
 * /graphql/stream (graphql-sse's single-connection mode) under a client that does not read: graphql-sse runs
 * every operation sent to the stream at once and hands each result over to be written, so a client that opened
 * its stream, stopped reading and sent hundreds of operations with large answers held them all in memory and took
 * the process down (out of memory). The gateway now cuts a stream that has too many results waiting for its
 * socket, refuses more than a few operations for a reservation that is not open yet, and applies the request
 * body limit there too.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type Listening } from '../src/server/http/listen.js';
import { MAX_OPERATIONS_UNOPENED } from '../src/server/sse/reservations.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { sleep } from './support/live.js';
import { insertTrickyTrips } from './support/trips-fixture.js';

const FIELDS = 'tripId pickupAt dropoffAt fareAmount tripDistance pickupZip dropoffZip';
/** About 600 KB of JSON: five pages of 1,000 trips in different orders. */
const LARGE = `{ ${['PICKUP_AT_DESC', 'PICKUP_AT_ASC', 'FARE_AMOUNT_DESC', 'FARE_AMOUNT_ASC', 'TRIP_DISTANCE_DESC']
  .map((order, index) => `p${index}: trips(first: 1000, orderBy: [${order}]) { edges { node { ${FIELDS} } } }`)
  .join(' ')} }`;

let gw: TestGateway;
let http: Listening;
let origin: string;

beforeAll(async () => {
  gw = await startTestGateway('stream_memory');
  await insertTrickyTrips(gw.database.pool, 1200);
  http = await listen(gw.app.gateway, 0, '127.0.0.1');
  origin = new URL(http.url).origin;
});
afterAll(async () => {
  await http?.close();
  await gw?.close();
});

async function reserve(): Promise<string> {
  const response = await fetch(`${origin}/graphql/stream`, { method: 'PUT' });
  expect(response.status).toBe(201);
  return response.text();
}

function send(token: string, operationId: string, query = LARGE): Promise<Response> {
  return fetch(`${origin}/graphql/stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
    body: JSON.stringify({ query, extensions: { operationId } }),
  });
}

describe('/graphql/stream and a client that does not read', () => {
  it('cuts the stream once too many results wait for its socket, and keeps serving', async () => {
    const token = await reserve();
    // The stream, opened and then never read while the operations are sent.
    const socket = net.connect(Number(new URL(origin).port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // Open once its response head arrives (until then the reservation takes only a few operations); then unread.
    const opened = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.write(
      `GET /graphql/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nX-GraphQL-Event-Stream-Token: ${token}\r\n\r\n`,
    );
    await opened;
    socket.pause();
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, index) => send(token, `op${index}`)));
    // Accepted until the stream is cut; after that the token names no stream (404).
    const codes = statuses.map((response) => response.status);
    expect(codes[0]).toBe(202);
    expect(codes.filter((code) => code !== 202 && code !== 404)).toEqual([]);
    // Reading now, the client finds its stream ended: the gateway let go of what it held for it.
    let received = '';
    const ended = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    socket.resume();
    const outcome = await Promise.race([ended.then(() => 'closed'), sleep(20_000).then(() => 'still open')]);
    expect(outcome).toBe('closed');
    expect(received.split('event: next').length - 1).toBeLessThan(40);
    // Everyone else is still served.
    expect((await gw.query('{ tripStats { count } }')).body).toEqual({ data: { tripStats: { count: '1200' } } });
  }, 60_000);

  it('takes only a few operations for a reservation whose stream is not open', async () => {
    const token = await reserve();
    const small = '{ __typename }';
    for (let index = 0; index < MAX_OPERATIONS_UNOPENED; index += 1) {
      expect((await send(token, `q${index}`, small)).status).toBe(202);
    }
    const refused = await send(token, 'one-too-many', small);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(
      /its stream is not open: open it/,
    );
  });

  it('refuses a body over MAX_REQUEST_BODY_BYTES with 413, as /graphql does', async () => {
    const token = await reserve();
    const response = await send(token, 'big', `{ __typename ${' '.repeat(300 * 1024)}}`);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe(
      'REQUEST_ENTITY_TOO_LARGE',
    );
  });

  it('refuses a body of undeclared length (chunked) with 411: graphql-sse would read it whole first', async () => {
    const token = await reserve();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify({ query: '{ __typename }' })));
        controller.close();
      },
    });
    const response = await fetch(`${origin}/graphql/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
      body,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
    expect(response.status).toBe(411);
  });
});
