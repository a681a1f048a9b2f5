import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { publicResult } from '../src/server/sse/response.js';
import { startLiveGateway, TripStream, type LiveGateway } from './support/live.js';

const SUBSCRIPTION = 'subscription($after: String) { tripsAdded(after: $after) { cursor trips { tripId } } }';

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A distinct-connection SSE subscription read with fetch; `first` resolves with the first event's payload. */
function openStream(origin: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const first = (async () => {
    const response = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
      body: JSON.stringify({ query: SUBSCRIPTION, variables }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
      const match = /event: next\ndata: (.*)\n\n/.exec(text);
      if (match)
        return JSON.parse(match[1]!) as {
          data?: unknown;
          errors?: { message: string; extensions?: { code?: string } }[];
        };
    }
    throw new Error(`stream ended without an event: ${text}`);
  })();
  return { first, close: () => controller.abort() };
}

describe('per-client limits without a trusted proxy', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('edge_untrusted_tokens', { MAX_SUBSCRIPTIONS_PER_CLIENT: '2' });
  });
  afterAll(() => gw.close());

  it('key on the address, not on a bearer token nobody verified', async () => {
    // A new made-up token per request was a new client each time.
    const streams = [1, 2, 3].map((n) => openStream(gw.origin, {}, { authorization: `Bearer made-up-${n}` }));
    expect((await streams[0]!.first).data).toBeTruthy();
    expect((await streams[1]!.first).data).toBeTruthy();
    expect((await streams[2]!.first).errors?.[0]?.extensions?.code).toBe('TOO_MANY_SUBSCRIPTIONS');
    for (const stream of streams) stream.close();
  });
});

describe('subscriber slots', () => {
  let gw: LiveGateway;
  const subscribers = () => {
    const stats = gw.app.live.feed.stats();
    return stats.pending + stats.catchingUp + stats.live;
  };
  beforeAll(async () => {
    gw = await startLiveGateway('edge_subscriptions', {
      // Behind the Apps proxy, which authenticates each caller and names the user (X-Forwarded-User).
      TRUST_PROXY: 'true',
      STREAM_RESERVATION_TTL_MS: '300',
      MAX_SUBSCRIPTIONS_PER_CLIENT: '2',
      LIVE_POLL_INTERVAL_MS: '50',
    });
  });
  afterAll(() => gw.close());

  it('a subscription refused with 406 is not left registered', async () => {
    for (let i = 0; i < 20; i += 1) {
      const response = await fetch(`${gw.origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query: SUBSCRIPTION }),
      });
      expect(response.status).toBe(406);
      expect(((await response.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(
        /subscription: send Accept: text\/event-stream/,
      );
    }
    await until(() => subscribers() === 0, 'refused subscriptions to be released');
  });

  it('a graphql-sse reservation that never opens its stream expires, with its operations', async () => {
    const put = await fetch(`${gw.origin}/graphql/stream`, { method: 'PUT' });
    expect(put.status).toBe(201);
    const token = await put.text();
    const operation = await fetch(`${gw.origin}/graphql/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
      body: JSON.stringify({ query: SUBSCRIPTION, extensions: { operationId: 'op1' } }),
    });
    expect(operation.status).toBe(202);
    await until(() => subscribers() === 1, 'the orphan operation to subscribe');
    await until(() => subscribers() === 0, 'the reservation to expire');
    // The token is gone: an operation sent to it finds no stream.
    const late = await fetch(`${gw.origin}/graphql/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
      body: JSON.stringify({ query: SUBSCRIPTION, extensions: { operationId: 'op2' } }),
    });
    expect(late.status).toBe(404);
    await late.arrayBuffer();
  });

  it("a request that fails to open a reservation's stream does not stop its expiry", async () => {
    const put = await fetch(`${gw.origin}/graphql/stream`, { method: 'PUT' });
    const token = await put.text();
    // graphql-sse opens a stream only for exactly `Accept: text/event-stream`; this one is refused.
    const refused = await fetch(`${gw.origin}/graphql/stream`, {
      headers: { accept: 'text/event-stream, application/json', 'x-graphql-event-stream-token': token },
    });
    expect(refused.status).not.toBe(200);
    await refused.arrayBuffer();
    const operation = await fetch(`${gw.origin}/graphql/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
      body: JSON.stringify({ query: SUBSCRIPTION, extensions: { operationId: 'op1' } }),
    });
    expect(operation.status).toBe(202);
    await until(() => subscribers() === 1, 'the orphan operation to subscribe');
    await until(() => subscribers() === 0, 'the reservation to expire all the same');
  });

  it('bounds subscriptions per client identity, and frees a slot when a stream closes', async () => {
    const headers = { 'x-forwarded-user': 'client-a' };
    const a = openStream(gw.origin, {}, headers);
    const b = openStream(gw.origin, {}, headers);
    expect((await a.first).data).toBeTruthy();
    expect((await b.first).data).toBeTruthy();
    const c = openStream(gw.origin, {}, headers);
    const refused = await c.first;
    expect(refused.errors?.[0]?.extensions?.code).toBe('TOO_MANY_SUBSCRIPTIONS');
    expect(refused.errors?.[0]?.message).toMatch(/already holds 2 subscriptions/);
    // Another client is not affected.
    const other = openStream(gw.origin, {}, { 'x-forwarded-user': 'client-b' });
    expect((await other.first).data).toBeTruthy();
    a.close();
    await until(() => subscribers() === 2, 'the closed stream to be released');
    const d = openStream(gw.origin, {}, headers);
    expect((await d.first).data).toBeTruthy();
    for (const stream of [b, c, other, d]) stream.close();
    await until(() => subscribers() === 0, 'every stream to be released');
  });

  it('refuses a tripsAdded cursor beyond the int8 range at once', async () => {
    const after = Buffer.from(JSON.stringify([1, 'id:asc', ['99999999999999999999']])).toString('base64url');
    const stream = openStream(gw.origin, { after });
    const event = await stream.first;
    // With the exact change capture a trips page cursor is no stream position at all (CURSOR_EXPIRED says how
    // to recover); either way the error comes at once and names the argument.
    expect(event.errors?.[0]?.message).toMatch(
      /^after: (is not a valid tripsAdded cursor|a trips page cursor is not a stream position)/,
    );
    stream.close();
  });
});

describe('graphql-sse streams per client (MAX_STREAMS_PER_CLIENT)', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    // Reservations do not expire during the test: only closing a stream frees a slot here.
    gw = await startLiveGateway('edge_streams', {
      // Behind the Apps proxy, which authenticates each caller and names the user (X-Forwarded-User).
      TRUST_PROXY: 'true',
      MAX_STREAMS_PER_CLIENT: '2',
      STREAM_RESERVATION_TTL_MS: '3600000',
    });
  });
  afterAll(() => gw.close());

  const reserve = (headers: Record<string, string>) =>
    fetch(`${gw.origin}/graphql/stream`, { method: 'PUT', headers }).then(async (response) => ({
      status: response.status,
      text: await response.text(),
    }));

  /** Opens a reservation's event stream; resolves once its headers arrived. */
  async function openStream(token: string, headers: Record<string, string>) {
    const controller = new AbortController();
    const response = await fetch(`${gw.origin}/graphql/stream`, {
      headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': token, ...headers },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    return { close: () => controller.abort() };
  }

  it('refuses a client at its bound with 429 naming the limit, not another client, and frees a slot on close', async () => {
    const a = { 'x-forwarded-user': 'stream-client-a' };
    const b = { 'x-forwarded-user': 'stream-client-b' };
    const first = await reserve(a);
    const second = await reserve(a);
    expect([first.status, second.status]).toEqual([201, 201]);

    // Two reservations, neither opened: the bound counts them.
    const refused = await reserve(a);
    expect(refused.status).toBe(429);
    const body = JSON.parse(refused.text) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('TOO_MANY_STREAMS');
    expect(body.errors[0]!.message).toMatch(
      /^this client already holds 2 \/graphql\/stream reservations or streams, the most allowed per client \(MAX_STREAMS_PER_CLIENT\)/,
    );

    // Another client is not affected; nor is the same address without a token (another identity).
    expect((await reserve(b)).status).toBe(201);
    expect((await reserve({})).status).toBe(201);

    // Opening a stream keeps its slot taken.
    const stream = await openStream(first.text, a);
    const other = await openStream(second.text, a);
    expect((await reserve(a)).status).toBe(429);

    // Closing it frees the slot, once the gateway has seen the connection go.
    stream.close();
    let again = await reserve(a);
    const deadline = Date.now() + 20_000;
    while (again.status === 429 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      again = await reserve(a);
    }
    expect(again.status).toBe(201);
    // And only that one: the client is at its bound again.
    expect((await reserve(a)).status).toBe(429);
    other.close();
  });

  it("answers HEAD on a reservation's stream 405 at once, and the reservation still opens with GET", async () => {
    const d = { 'x-forwarded-user': 'stream-client-d' };
    const token = (await reserve(d)).text;
    for (const path of ['/graphql/stream', '/api/graphql/stream']) {
      // graphql-sse alone treats this HEAD as the GET that opens the stream: no headers until the first event.
      const head = await fetch(`${gw.origin}${path}`, {
        method: 'HEAD',
        headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': token, ...d },
        signal: AbortSignal.timeout(2000),
      });
      expect(head.status, path).toBe(405);
      expect(head.headers.get('allow'), path).toBe('GET, POST, PUT, DELETE');
    }
    const stream = await openStream(token, d);
    stream.close();
  });

  it('counts a reservation on /api/graphql/stream like one on /graphql/stream', async () => {
    const c = { 'x-forwarded-user': 'stream-client-c' };
    const put = (path: string) => fetch(`${gw.origin}${path}`, { method: 'PUT', headers: c });
    expect((await put('/graphql/stream')).status).toBe(201);
    expect((await put('/api/graphql/stream')).status).toBe(201);
    const refused = await put('/api/graphql/stream');
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(
      /MAX_STREAMS_PER_CLIENT/,
    );
  });
});

describe('graphql-sse stream tokens', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('edge_stream_tokens', { STREAM_RESERVATION_TTL_MS: '3600000' });
  });
  afterAll(() => gw.close());
  const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('are chosen by the server, never by the client that reserves', async () => {
    // graphql-sse took a PUT's token from this header: a client could name the stream it reserved.
    const chosen = '00000000-0000-4000-8000-000000000000';
    const put = await fetch(`${gw.origin}/graphql/stream`, {
      method: 'PUT',
      headers: { 'x-graphql-event-stream-token': chosen },
    });
    expect(put.status).toBe(201);
    const token = await put.text();
    expect(token).toMatch(UUID_V4);
    expect(token).not.toBe(chosen);
    const again = await fetch(`${gw.origin}/graphql/stream?token=${chosen}`, { method: 'PUT' });
    expect(await again.text()).not.toBe(chosen);
  });

  it('do not come from Math.random', async () => {
    // graphql-sse's default drew every hex digit from Math.random, whose state a client can recover from
    // the tokens it is given; with Math.random pinned, those tokens were all alike.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0);
    try {
      const tokens = new Set<string>();
      for (let i = 0; i < 3; i += 1) {
        tokens.add(await (await fetch(`${gw.origin}/graphql/stream`, { method: 'PUT' })).text());
      }
      expect(tokens.size).toBe(3);
    } finally {
      random.mockRestore();
    }
  });

  it('refuses operation ids graphql-sse would coerce, echo at any length, or find taken in a plain object', async () => {
    const token = await (await fetch(`${gw.origin}/graphql/stream`, { method: 'PUT' })).text();
    const send = (operationId: unknown) =>
      fetch(`${gw.origin}/graphql/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
        body: JSON.stringify({ query: SUBSCRIPTION, extensions: { operationId } }),
      });
    const cases: [unknown, RegExp][] = [
      [5, /^extensions\.operationId: must be a string of 1 to 128 characters, but got a number$/],
      [{ a: 1 }, /but got an object$/],
      ['', /but got 0 characters$/],
      ['x'.repeat(129), /but got 129 characters$/],
      ['constructor', /^extensions\.operationId: "constructor" cannot name an operation/],
      ['__proto__', /"__proto__" cannot name an operation/],
    ];
    for (const [operationId, message] of cases) {
      const refused = await send(operationId);
      expect(refused.status, JSON.stringify(operationId)).toBe(400);
      const body = (await refused.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(body.errors[0]!.message).toMatch(message);
      expect(body.errors[0]!.extensions.code).toBe('BAD_REQUEST');
    }
    const remove = await fetch(`${gw.origin}/graphql/stream?operationId=constructor`, {
      method: 'DELETE',
      headers: { 'x-graphql-event-stream-token': token },
    });
    expect(remove.status).toBe(400);
    await remove.arrayBuffer();
    // An ordinary id is still the stream's to run.
    const accepted = await send('op-1');
    expect(accepted.status).toBe(202);
    await accepted.arrayBuffer();
  });

  it("answers a token named after an object's own members as an unknown one, never with a 500", async () => {
    const operation = JSON.stringify({ query: SUBSCRIPTION, extensions: { operationId: 'op' } });
    for (const token of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
      for (const path of ['/graphql/stream', `/graphql/stream?token=${token}`]) {
        const headers: Record<string, string> = path.includes('?') ? {} : { 'x-graphql-event-stream-token': token };
        const post = await fetch(`${gw.origin}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: operation,
        });
        expect(post.status, `POST ${path} ${token}`).toBe(404);
        await post.arrayBuffer();
        const remove = await fetch(`${gw.origin}${path}${path.includes('?') ? '&' : '?'}operationId=op`, {
          method: 'DELETE',
          headers,
        });
        expect(remove.status, `DELETE ${path} ${token}`).toBe(404);
        await remove.arrayBuffer();
        const open = await fetch(`${gw.origin}${path}`, {
          headers: { accept: 'text/event-stream', ...headers },
          signal: AbortSignal.timeout(5000),
        });
        // No stream by that name: graphql-sse reads the GET as a distinct-connection operation, which has none.
        expect(open.status, `GET ${path} ${token}`).toBe(400);
        await open.arrayBuffer();
      }
    }
    const health = await fetch(`${gw.origin}/graphql?query=%7B__typename%7D`);
    expect(await health.json()).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('a fast reader and one large sync (SUBSCRIBER_TOO_SLOW false positive)', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('edge_burst', {
      LIVE_SUBSCRIBER_BUFFER_ROWS: '2000',
      LIVE_FEED_BATCH_ROWS: '1000',
      LIVE_POLL_INTERVAL_MS: '50',
    });
  });
  afterAll(() => gw.close());

  it('gets every row of four 5,000-row syncs, each enqueued in one tick, without being cut off', async () => {
    const stream = new TripStream(gw.client('distinct'), {});
    await stream.started();
    for (let sync = 0; sync < 4; sync += 1) {
      const first = sync * 5000 + 1;
      await gw.database.pool.query(
        `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, fare_amount, pickup_zip, dropoff_zip)
         SELECT g, now(), now() + interval '12 minutes', 2.5, 11.5, 10001, 11430 FROM generate_series($1::int, $2::int) g`,
        [first, first + 4999],
      );
      await stream.untilRows(first + 4999, 60_000);
    }
    expect(stream.errors).toEqual([]);
    expect(stream.ids).toHaveLength(20_000);
    expect(gw.app.live.feed.stats().tooSlow).toBe(0);
    stream.close();
  });
});

describe('errors over the single-connection stream', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('sse_single_errors');
  });
  afterAll(() => gw.close());

  it('name a bad variable as the distinct mode does', async () => {
    const errorsOf = (mode: 'single' | 'distinct') =>
      new Promise<{ errors?: readonly { extensions?: unknown }[] }[]>((resolve, reject) => {
        const results: { errors?: readonly { extensions?: unknown }[] }[] = [];
        gw.client(mode).subscribe(
          { query: SUBSCRIPTION, variables: { after: 5 } },
          { next: (result) => results.push(result), error: reject, complete: () => resolve(results) },
        );
      });
    for (const mode of ['single', 'distinct'] as const) {
      const [result] = await errorsOf(mode);
      expect(result!.errors![0]!.extensions, mode).toEqual({ code: 'BAD_USER_INPUT', argument: '$after' });
    }
  });

  it("leave out extensions.http, the status yoga answers with, which graphql-sse's own writer kept", () => {
    const error = new GraphQLError('refreshSyncedTable: not allowed', {
      extensions: { code: 'FORBIDDEN', http: { status: 403 } },
    });
    expect(publicResult({ data: null, errors: [error] })).toEqual({
      data: null,
      errors: [{ message: 'refreshSyncedTable: not allowed', extensions: { code: 'FORBIDDEN' } }],
    });
  });
});

describe("graphql-sse's refusals on /graphql/stream", () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('sse_refusals');
  });
  afterAll(() => gw.close());

  const stream = (method: string, headers: Record<string, string> = {}, body?: string) =>
    fetch(`${gw.origin}/graphql/stream`, { method, headers, body });
  async function expectRefusal(answer: Response, status: number, message: RegExp, extensions: Record<string, unknown>) {
    expect(answer.status).toBe(status);
    const body = (await answer.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
    expect(body.errors[0]!.message).toMatch(message);
    expect(body.errors[0]!.extensions).toEqual(extensions);
  }

  it('say what to fix, with a code, instead of "Stream not found", "Missing query" or an empty 415', async () => {
    await expectRefusal(await stream('GET'), 404, /^no stream for this token: reserve one with PUT \/graphql\/stream/, {
      code: 'BAD_REQUEST',
      argument: 'X-GraphQL-Event-Stream-Token',
    });
    const unknown = {
      accept: 'text/event-stream',
      'x-graphql-event-stream-token': '00000000-0000-4000-8000-000000000000',
    };
    await expectRefusal(await stream('GET', unknown), 400, /^no operation: a GET that names a stream token/, {
      code: 'BAD_REQUEST',
    });
    const token = await (await stream('PUT')).text();
    const json = { 'content-type': 'application/json', 'x-graphql-event-stream-token': token };
    await expectRefusal(
      await stream('POST', json, JSON.stringify({ query: '{ __typename }' })),
      400,
      /^extensions\.operationId: required/,
      { code: 'BAD_REQUEST', argument: 'extensions.operationId' },
    );
    await expectRefusal(
      await stream(
        'POST',
        json,
        JSON.stringify({ query: '{ __typename }', variables: [1], extensions: { operationId: 'a' } }),
      ),
      400,
      /^variables: must be an object$/,
      { code: 'BAD_REQUEST', argument: 'variables' },
    );
    await expectRefusal(
      await stream('POST', json, JSON.stringify({ extensions: { operationId: 'a' } })),
      400,
      /^query: required: a POST sends one operation as JSON/,
      { code: 'BAD_REQUEST', argument: 'query' },
    );
    await expectRefusal(await stream('POST', json, '{'), 400, /^the body is not valid JSON \(/, {
      code: 'BAD_REQUEST',
    });
    await expectRefusal(
      await stream('POST', json, '\uFEFF{"query":"{ __typename }","extensions":{"operationId":"c"}}'),
      400,
      /^the body starts with a byte order mark \(U\+FEFF\)/,
      { code: 'BAD_REQUEST' },
    );
    await expectRefusal(
      await stream(
        'POST',
        json,
        JSON.stringify({ query: '{ __typename }', operationName: {}, extensions: { operationId: 'b' } }),
      ),
      400,
      /^operationName: must be a string or null, but an object was given$/,
      { code: 'BAD_REQUEST' },
    );
    // The same for a distinct connection's operation, sent to the stream path without a token.
    await expectRefusal(
      await stream(
        'POST',
        { 'content-type': 'application/json', accept: 'text/event-stream' },
        JSON.stringify({ query: '{ __typename }', operationName: {} }),
      ),
      400,
      /^operationName: must be a string or null, but an object was given$/,
      { code: 'BAD_REQUEST' },
    );
    await expectRefusal(
      await stream('POST', { 'content-type': 'text/plain', 'x-graphql-event-stream-token': token }, 'x'),
      415,
      /^POST bodies must be application\/json \(got "text\/plain"\)/,
      { code: 'UNSUPPORTED_MEDIA_TYPE' },
    );
  });

  it('refuse a cross-site text/plain body, as /graphql does, whatever else its Content-Type names', async () => {
    // A browser sends `text/plain;application/json` and `Accept: text/event-stream` cross-site without a
    // preflight; graphql-sse's own check (the header *contains* application/json) ran the mutation.
    const before = gw.app.services.statements.total;
    for (const path of ['/graphql/stream', '/api/graphql/stream']) {
      const answer = await fetch(`${gw.origin}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'text/plain;application/json',
          accept: 'text/event-stream',
          origin: 'https://evil.example',
        },
        body: JSON.stringify({ query: 'mutation { refreshSyncedTable { __typename } }' }),
      });
      await expectRefusal(answer, 415, /^POST bodies must be application\/json \(got "text\/plain"\)/, {
        code: 'UNSUPPORTED_MEDIA_TYPE',
      });
    }
    expect(gw.app.services.statements.total).toBe(before);
  });

  it('answer a document over the limits with an error event, not a 500 carrying the stack', async () => {
    const aliases = `{ ${Array.from({ length: 300 }, (_, i) => `a${i}: __typename`).join(' ')} }`;
    const answer = await stream(
      'POST',
      { 'content-type': 'application/json', accept: 'text/event-stream' },
      JSON.stringify({ query: aliases }),
    );
    expect(answer.status).toBe(200);
    const text = await answer.text();
    expect(text).not.toMatch(/\bat \S+ \(/);
    const data = /^data: (.*)$/m.exec(text)?.[1];
    expect(JSON.parse(data ?? 'null')).toMatchObject({
      errors: [
        { message: expect.stringMatching(/^the query has 300 aliases; at most \d+ are allowed \(MAX_ALIASES\)$/) },
      ],
    });
  });
});
