import { createServer as createHttp2Server } from 'node:http2';
import { tracingSettings } from '../src/observability/tracing.js';
import { buildIdentity } from '../src/observability/build-identity.js';
import { createServer, maxHeaderSize, type Server } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { listen, type RefusedRequest } from '../src/server/http/listen.js';
import { startLiveGateway, type LiveGateway } from './support/live.js';

const post = (origin: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** Writes `text` on a new connection and resolves with everything the server sent until it closed. */
const rawHttp = (port: number | string, text: string) =>
  new Promise<string>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(text));
    let received = '';
    socket.on('data', (chunk) => (received += chunk.toString()));
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });

const bodyOf = (answer: string) =>
  JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as {
    errors: { message: string; extensions: { code: string } }[];
  };

describe('the default edge', () => {
  let gw: LiveGateway;
  const lines: Record<string, unknown>[] = [];
  beforeAll(async () => {
    const logger = createLogger('info', {}, (_level, line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    gw = await startLiveGateway('edge_http', {}, { logger });
  });
  afterAll(() => gw.close());

  it('/health answers the documented JSON (yoga no longer shadows it)', async () => {
    const response = await fetch(`${gw.origin}/health`);
    expect(response.status).toBe(200);
    // liveChanges: how live changes are found (docs/subscriptions.md); the exact capture on this database.
    // The test gateway runs with RESPONSE_CACHE=off (test/support/gateway.ts); /health and /ready say so.
    const cacheOff = { mode: 'off', reason: 'RESPONSE_CACHE=off' };
    expect(await response.json()).toEqual({
      status: 'ok',
      // Which code answers (src/observability/build-identity.ts): a mixed deploy shows two builds.
      version: (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version,
      build: buildIdentity().build,
      liveChanges: 'trigger',
      // DB_IDLE_AFTER_MS is 0 away from Lakebase Autoscaling: background database work never pauses.
      backgroundDatabaseWork: { state: 'running', idleAfterMs: 0 },
      responseCache: cacheOff,
    });
    const ready = await fetch(`${gw.origin}/ready`);
    expect(await ready.json()).toEqual({ status: 'ready', responseCache: cacheOff });
  });

  it('/api/health and /api/ready answer as /health and /ready (token callers behind the Apps proxy reach /api/ only)', async () => {
    for (const path of ['/health', '/ready']) {
      const direct = await fetch(`${gw.origin}${path}`);
      const api = await fetch(`${gw.origin}/api${path}`);
      expect(api.status, path).toBe(direct.status);
      expect(await api.json(), path).toEqual(await direct.json());
    }
    expect((await fetch(`${gw.origin}/api/healthz`)).status).toBe(404);
  });

  it('/health and /ready answer HEAD as they answer GET, without a body (load balancers probe with HEAD)', async () => {
    for (const path of ['/health', '/ready']) {
      const head = await fetch(`${gw.origin}${path}`, { method: 'HEAD' });
      expect(head.status, path).toBe(200);
      expect(head.headers.get('content-type'), path).toMatch(/^application\/json/);
      expect(await head.text(), path).toBe('');
    }
  });

  it('answers other methods on /graphql with 405 and Allow, HEAD included', async () => {
    const url = `${gw.origin}/graphql?query=${encodeURIComponent('{ __typename }')}`;
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(405);
    expect(head.headers.get('allow')).toBe('GET, POST');
    expect(await head.text()).toBe('');
    const patch = await fetch(url, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(patch.status).toBe(405);
    expect(patch.headers.get('allow')).toBe('GET, POST');
    expect(await patch.json()).toEqual({
      errors: [
        {
          message: expect.stringMatching(/^PATCH requests .* use GET with \?query=/),
          extensions: { code: 'METHOD_NOT_ALLOWED' },
        },
      ],
    });
  });

  it("tells a client that sends only a persisted operation's id that persisted operations are off, as Apollo's link expects", async () => {
    for (const body of [
      {
        extensions: {
          persistedQuery: {
            version: 1,
            sha256Hash: 'ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38',
          },
        },
      },
      { documentId: 'sha256:abc123' },
    ]) {
      const response = await fetch(`${gw.origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(400);
      const { errors } = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(errors).toEqual([
        {
          message: expect.stringMatching(/^persisted operations are off on this gateway/),
          extensions: { code: 'PERSISTED_QUERY_NOT_SUPPORTED' },
        },
      ]);
    }
  });

  it("a query asked for as an event stream only is answered in the gateway's stream; JSON otherwise", async () => {
    for (const accept of ['text/event-stream', 'TEXT/EVENT-STREAM; charset=utf-8']) {
      const streamed = await post(gw.origin, { query: '{ __typename }' }, { accept });
      expect(streamed.headers.get('content-type')).toBe('text/event-stream');
      // The gateway's own framing (server/sse/response.ts), not yoga's: it tells proxies not to buffer.
      expect(streamed.headers.get('x-accel-buffering')).toBe('no');
      const text = await streamed.text();
      expect(text).toContain('event: next\ndata: {"data":{"__typename":"Query"}}\n\n');
      expect(text).toContain('event: complete');
    }
    for (const accept of ['application/json', 'text/event-stream, application/json', '*/*']) {
      const plain = await post(gw.origin, { query: '{ __typename }' }, { accept });
      expect(plain.headers.get('content-type')).toMatch(/^application\/(graphql-response\+)?json/);
      expect(await plain.json()).toEqual({ data: { __typename: 'Query' } });
    }
  });

  it('CORS: same origin by default, nothing echoed to another origin, no credentials', async () => {
    const preflight = await fetch(`${gw.origin}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
    const simple = await post(gw.origin, { query: '{ __typename }' }, { origin: 'https://evil.example' });
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('CSRF: a form-encoded or multipart mutation is refused before it runs', async () => {
    let refreshes = 0;
    const counted = gw.app.services.statements.total;
    for (const body of [
      new URLSearchParams({ query: 'mutation { refreshSyncedTable { __typename } }' }),
      (() => {
        const form = new FormData();
        form.set('operations', JSON.stringify({ query: 'mutation { refreshSyncedTable { __typename } }' }));
        form.set('map', '{}');
        return form;
      })(),
    ]) {
      const response = await fetch(`${gw.origin}/graphql`, {
        method: 'POST',
        body,
        headers: { origin: 'https://evil.example' },
      });
      expect(response.status).toBe(415);
      if (response.status < 400) refreshes += 1;
    }
    expect(refreshes).toBe(0);
    expect(gw.app.services.statements.total).toBe(counted);
  });

  it('GraphiQL is still served, and a JSON POST (what it and the dashboard send) works', async () => {
    const page = await fetch(`${gw.origin}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('lakebase-graphql');
    const response = await post(gw.origin, { query: 'query Ping { __typename }' });
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('lets no other site frame its pages, and says nosniff on every answer', async () => {
    // GraphiQL filled in from ?query= with the refresh mutation, framed under a decoy button (clickjacking).
    const graphiql = await fetch(
      `${gw.origin}/graphql?query=mutation%20%7B%20refreshSyncedTable%20%7B%20__typename%20%7D%20%7D`,
      {
        headers: { accept: 'text/html' },
      },
    );
    // (The dashboard's page: test/web-page.test.ts, which has one built; here it may not be.)
    expect(graphiql.headers.get('content-type')).toMatch(/^text\/html/);
    expect(graphiql.headers.get('content-security-policy')).toBe("frame-ancestors 'self'");
    expect(graphiql.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    await graphiql.arrayBuffer();
    const json = await post(gw.origin, { query: '{ __typename }' });
    expect(json.headers.get('x-content-type-options')).toBe('nosniff');
    expect(json.headers.get('x-frame-options')).toBeNull();
    await json.arrayBuffer();
  });

  it('/metrics exposes requests, errors by code, SQL, pool, live feed, rollups, tokens', async () => {
    await post(gw.origin, { query: 'query Count { trips { totalCount } }' });
    await post(gw.origin, { query: '{ trips(first: -1) { totalCount } }' });
    const response = await fetch(`${gw.origin}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await response.text();
    for (const pattern of [
      /graphql_yoga_http_duration_bucket\{.*operationName="Count".*statusCode="200"/,
      /graphql_envelop_phase_execute_bucket/,
      /lakebase_graphql_errors_total\{code="BAD_USER_INPUT"\} [1-9]/,
      /lakebase_http_responses_total\{status="200"\} [1-9]/,
      /lakebase_sql_statements\{result="ok"\} [1-9]/,
      /lakebase_sql_statement_duration_seconds_count\{result="ok"\} [1-9]/,
      /lakebase_pg_pool_connections\{state="max"\} 10/,
      /lakebase_live_subscribers\{state="live"\} 0/,
      /lakebase_live_feed\{stat="too_slow_cutoffs"\} 0/,
      /lakebase_live_feed\{stat="rows_delivered"\}/,
      /lakebase_rollup_answers\{source="table"\}/,
      /lakebase_rollup_builds\{kind="failed"\} 0/,
      /lakebase_oauth_tokens\{result="failed"\} 0/,
      /lakebase_subscriptions_open 0/,
    ]) {
      expect(text).toMatch(pattern);
    }
  });

  it('/metrics times every GraphQL phase by operation type and counts errors by phase and path', async () => {
    const count = (text: string, series: string) =>
      Number(
        text
          .split('\n')
          .find((line) => line.startsWith(`${series} `))
          ?.split(' ')[1] ?? 0,
      );
    const before = await (await fetch(`${gw.origin}/metrics`)).text();
    await post(gw.origin, { query: 'query Phases { __typename }' });
    await post(gw.origin, { query: 'query Phases { __typename }' });
    await post(gw.origin, { query: '{ trips(' });
    await post(gw.origin, { query: '{ noSuchField }' });
    await post(gw.origin, { query: '{ trips(first: -1) { totalCount } }' });
    const text = await (await fetch(`${gw.origin}/metrics`)).text();
    const added = (series: string) => count(text, series) - count(before, series);
    // Three queries parsed and validated (one invalid), two executed; one document did not parse.
    expect(added('graphql_envelop_phase_parse_count{operationType="query"}')).toBe(4);
    expect(added('graphql_envelop_phase_validate_count{operationType="query"}')).toBe(4);
    expect(added('graphql_envelop_phase_context_count{operationType="query"}')).toBe(3);
    expect(added('graphql_envelop_phase_execute_count{operationType="query"}')).toBe(3);
    expect(added('graphql_envelop_request_duration_count{operationType="query"}')).toBe(3);
    expect(added('graphql_envelop_request{operationType="query"}')).toBe(3);
    expect(added('graphql_envelop_error_result{operationType="undefined",phase="parse"}')).toBe(1);
    expect(added('graphql_envelop_error_result{operationType="query",phase="validate"}')).toBe(1);
    expect(added('graphql_envelop_error_result{operationType="query",phase="execute",path="trips"}')).toBe(1);
    expect(
      added(
        'graphql_yoga_http_duration_count{operationName="Phases",operationType="query",method="POST",statusCode="200"}',
      ),
    ).toBe(2);
  });

  it('logs one access line per request with request id, operation name, status and duration', async () => {
    await post(gw.origin, { query: 'query Logged { __typename }' }, { 'x-request-id': 'req-edge-1' });
    const line = lines.find((entry) => entry.msg === 'request' && entry.requestId === 'req-edge-1');
    expect(line).toMatchObject({ method: 'POST', path: '/graphql', status: 200, operationName: 'Logged' });
    expect(typeof line!.durationMs).toBe('number');
  });

  it("logs a document refused by a limit with the request's id, whichever check refused it", async () => {
    const letters = 'abcdefghijklm'.split('');
    const cases = {
      'req-limit-depth': `${letters.map((name) => `{ ${name} `).join('')}${'}'.repeat(letters.length)}`,
      'req-limit-tokens': `{ trips(filter: { pickupZip: { in: [${'1, '.repeat(12_000)}] } }) { totalCount } }`,
      'req-limit-nesting': `{ trips(filter: ${'{ and: ['.repeat(70)}${']}'.repeat(70)}) { totalCount } }`,
    };
    for (const [id, query] of Object.entries(cases)) {
      const response = await post(gw.origin, { query }, { 'x-request-id': id });
      const body = (await response.json()) as { data?: unknown; errors?: { message: string }[] };
      expect(body.data, id).toBeUndefined();
      expect(body.errors?.length, id).toBe(1);
    }
    const refusals = lines.filter((entry) => entry.msg === 'query rejected by limits');
    for (const id of Object.keys(cases)) {
      expect(
        refusals.filter((entry) => entry.requestId === id),
        id,
      ).toHaveLength(1);
    }
  });

  it('cuts off a slow-loris request (declares 1000 bytes, sends 10)', async () => {
    const counted = async (status: string) => {
      const text = await (await fetch(`${gw.origin}/metrics`)).text();
      return Number(
        new RegExp(`^lakebase_http_responses_total\\{status="${status}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0,
      );
    };
    const [timedOutBefore, badBefore] = [await counted('408'), await counted('400')];
    const http = await listen(gw.app.gateway, 0, '127.0.0.1', { requestTimeoutMs: 300, headersTimeoutMs: 300 });
    try {
      const { port } = new URL(http.url);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"query":',
          );
        });
        let received = '';
        socket.on('data', (chunk) => (received += chunk.toString()));
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
        setTimeout(() => reject(new Error(`still open after 10 s: ${received}`)), 10_000).unref();
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
      // The metrics count the 408 the client got, not the 400 the handler made of the cut body afterwards.
      await expect.poll(() => counted('408'), { timeout: 5_000 }).toBe(timedOutBefore + 1);
      expect(await counted('400')).toBe(badBefore);
    } finally {
      await http.close();
    }
  });

  it('accepts an absolute-form request target (RFC 9112), as a server must', async () => {
    const http = await listen(gw.app.gateway, 0, '127.0.0.1');
    try {
      const { port } = new URL(http.url);
      const answer = await rawHttp(
        port,
        `GET http://127.0.0.1:${port}/graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
          'Accept: application/json\r\nConnection: close\r\n\r\n',
      );
      expect(answer).toMatch(/^HTTP\/1\.1 200/);
      expect(answer).toContain('{"data":{"__typename":"Query"}}');
    } finally {
      await http.close();
    }
  });

  it('answers pipelined requests in order, a few at a time, and disconnects a client far ahead of its answers', async () => {
    const http = await listen(gw.app.gateway, 0, '127.0.0.1');
    try {
      const { port } = new URL(http.url);
      const pipeline = (count: number) =>
        new Promise<{ answers: number; closed: boolean }>((resolve) => {
          const socket = connect(Number(port), '127.0.0.1', () => {
            const one = 'GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n';
            socket.write(one.repeat(count));
          });
          let received = '';
          const answers = () => received.split('HTTP/1.1 200 OK').length - 1;
          socket.on('data', (chunk) => {
            received += chunk.toString();
            if (answers() === count) {
              socket.destroy();
              resolve({ answers: count, closed: false });
            }
          });
          socket.on('close', () => resolve({ answers: answers(), closed: true }));
          socket.on('error', () => {});
        });
      expect(await pipeline(20)).toEqual({ answers: 20, closed: false });
      const flood = await pipeline(500);
      expect(flood.closed).toBe(true);
      expect(flood.answers).toBeLessThan(500);
      // The gateway still serves.
      expect((await fetch(`${gw.origin}/health`)).status).toBe(200);
    } finally {
      await http.close();
    }
  });

  it('reads a JSON body whatever the case of its media type and the spaces around its parameters', async () => {
    for (const type of [
      'Application/Json',
      'application/JSON',
      'application/json ; charset=utf-8',
      ' application/json;charset=UTF-8',
    ]) {
      const response = await fetch(`${gw.origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': type },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(response.status, type).toBe(200);
      expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    }
    // Still refused: what a cross-site form can send.
    const form = await fetch(`${gw.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'Application/X-WWW-Form-Urlencoded' },
      body: 'query=%7B__typename%7D',
    });
    expect(form.status).toBe(415);
  });

  it('says why a body is not JSON without echoing it, and refuses a compressed body naming its encoding', async () => {
    const send = (body: BodyInit, headers: Record<string, string> = {}) =>
      fetch(`${gw.origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    const bad = await send('{bad');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      errors: [
        {
          message: expect.stringMatching(
            /^the POST body is not valid JSON \(Expected property name or '\}' in JSON at position 1/,
          ) as unknown,
          extensions: { code: 'BAD_REQUEST' },
        },
      ],
    });
    // What Windows PowerShell 5.1 sends from a file saved as "UTF-8": the parser's own message showed an
    // invisible character.
    const bom = await send(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"query":"{ __typename }"}')]));
    expect(bom.status).toBe(400);
    expect(((await bom.json()) as { errors: { message: string }[] }).errors[0]!.message).toBe(
      'the POST body starts with a byte order mark (U+FEFF), which JSON sent over a network must not have ' +
        '(RFC 8259, 8.1); send it as UTF-8 without a BOM',
    );
    const { gzipSync } = await import('node:zlib');
    const gzip = await send(gzipSync('{"query":"{ __typename }"}'), { 'content-encoding': 'gzip' });
    expect(gzip.status).toBe(415);
    expect(((await gzip.json()) as { errors: { message: string }[] }).errors[0]!.message).toBe(
      'Content-Encoding "gzip" is not accepted; send the body uncompressed',
    );
    // Accept that allows nothing the gateway writes: each acceptable type listed once.
    const refused = await send(JSON.stringify({ query: '{ __typename }' }), { accept: ';;;,,/,' });
    expect(refused.status).toBe(406);
    const listed = ((await refused.json()) as { errors: { message: string }[] }).errors[0]!.message;
    const types = listed.slice(listed.indexOf('accept one of ') + 'accept one of '.length).split(', ');
    expect(types.length).toBeGreaterThan(1);
    expect(new Set(types).size).toBe(types.length);
  });

  it('answers a Host header that makes no URL with 400 naming it, not a 500 with a stack trace', async () => {
    const { port } = new URL(gw.origin);
    const raw = (head: string) => rawHttp(port, `${head}\r\nConnection: close\r\n\r\n`);
    for (const host of ['x:99999', 'a b', '[::1', '%zz', ':80']) {
      for (const target of ['/graphql?query=%7B__typename%7D', '/health']) {
        const answer = await raw(`GET ${target} HTTP/1.1\r\nHost: ${host}`);
        expect(answer, `${host} ${target}`).toMatch(/^HTTP\/1\.1 400 /);
        const body = bodyOf(answer);
        expect(body.errors[0]!.message).toContain(`the Host header ${JSON.stringify(host)}`);
        expect(body.errors[0]!.extensions.code).toBe('BAD_REQUEST');
      }
    }
    // A usable Host still works, the same connection handling as ever.
    expect(await raw('GET /health HTTP/1.1\r\nHost: 127.0.0.1')).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('answers what the HTTP parser refuses with a JSON body that says why, and logs it like any request', async () => {
    const refusals: RefusedRequest[] = [];
    const http = await listen(gw.app.gateway, 0, '127.0.0.1', undefined, (refused) => refusals.push(refused));
    try {
      const { port } = new URL(http.url);
      // Variables in a GET URL past Node's header limit: was Node's bare 431, no body, no log line.
      const long = `{"filter":{"pickupZip":{"in":[${Array.from({ length: 4000 }, (_, i) => 10000 + i).join(',')}]}}}`;
      const tooLong = await rawHttp(
        port,
        `GET /graphql?query=%7B__typename%7D&variables=${encodeURIComponent(long)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      expect(tooLong).toMatch(/^HTTP\/1\.1 431 /);
      expect(bodyOf(tooLong).errors[0]!.message).toContain(`exceed ${maxHeaderSize} bytes; send a long query`);
      const garbage = await rawHttp(port, 'HELLO THERE\r\n\r\n');
      expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
      expect(bodyOf(garbage).errors[0]).toEqual({
        message: expect.stringMatching(/^the request is not valid HTTP\/1\.1 \(HPE_/),
        extensions: { code: 'BAD_REQUEST' },
      });
      const badHost = await rawHttp(port, 'GET /health?x=1 HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n');
      expect(badHost).toMatch(/^HTTP\/1\.1 400 /);
      expect(refusals).toEqual([
        { status: 431, method: null, path: null, reason: expect.stringContaining('exceed') },
        { status: 400, method: null, path: null, reason: expect.stringContaining('not valid HTTP/1.1') },
        {
          status: 400,
          method: 'GET',
          path: '/health',
          reason: 'the Host header and the request target do not form a URL',
        },
      ]);
      // A chunk with more extensions than Node reads: 413, as Node answers it.
      const extensions = await rawHttp(
        port,
        `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
          `5;${'a'.repeat(20_000)}\r\n`,
      );
      expect(extensions).toMatch(/^HTTP\/1\.1 413 /);
      refusals.length = 0;
      // The connection-level refusals do not disturb the next client.
      expect(await rawHttp(port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toMatch(
        /^HTTP\/1\.1 200 /,
      );
    } finally {
      await http.close();
    }
  });

  it('answers a request that never arrives with 408, and logs it only when something was sent', async () => {
    const refusals: RefusedRequest[] = [];
    const timeouts = { requestTimeoutMs: 300, headersTimeoutMs: 300 };
    const http = await listen(gw.app.gateway, 0, '127.0.0.1', timeouts, (refused) => refusals.push(refused));
    try {
      const { port } = new URL(http.url);
      // A browser's preconnect or a TCP health check: nothing sent, no request to log.
      expect(await rawHttp(port, '')).toMatch(/^HTTP\/1\.1 408 /);
      expect(refusals).toEqual([]);
      // Half a request line, then nothing: a slow or stuck client, worth a line.
      expect(await rawHttp(port, 'GET /graphql?query=%7B__typen')).toMatch(/^HTTP\/1\.1 408 /);
      expect(refusals).toEqual([{ status: 408, method: null, path: null, reason: expect.stringContaining('in time') }]);
    } finally {
      await http.close();
    }
  });
});

describe('a configured edge: CORS origins, persisted operations only, no introspection, rate limit', () => {
  let gw: LiveGateway;
  const DASHBOARD = 'https://dashboard.example.com';
  const manifest: Record<string, string> = {
    abc123: 'query Count { trips { totalCount } }',
    def456: 'query Ping { __typename }',
  };
  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'persisted-'));
    const file = path.join(dir, 'persisted-documents.json');
    await writeFile(file, JSON.stringify(manifest));
    gw = await startLiveGateway('edge_configured', {
      CORS_ORIGINS: `${DASHBOARD}, https://bi.example.com`,
      // Behind the Apps proxy, which authenticates each caller and names the user (X-Forwarded-User).
      TRUST_PROXY: 'true',
      PERSISTED_OPERATIONS: 'only',
      PERSISTED_OPERATIONS_MANIFEST: file,
      GRAPHQL_INTROSPECTION: 'false',
      GRAPHIQL: 'false',
      RATE_LIMIT_REQUESTS: '15',
      RATE_LIMIT_WINDOW_MS: '60000',
    });
  });
  afterAll(() => gw.close());

  it('answers the allowed origins with CORS headers, and only them', async () => {
    const allowed = await fetch(`${gw.origin}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: DASHBOARD, 'access-control-request-method': 'POST' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    // Every request header the README documents may be sent cross-origin, and the ETag read back.
    const preflight = await fetch(`${gw.origin}/graphql`, {
      method: 'OPTIONS',
      headers: {
        origin: DASHBOARD,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, x-admin-token, authorization, x-request-id',
      },
    });
    const allowedHeaders = (preflight.headers.get('access-control-allow-headers') ?? '').split(/,\s*/);
    expect(allowedHeaders).toEqual(
      expect.arrayContaining(['content-type', 'x-admin-token', 'authorization', 'x-request-id']),
    );
    const get = await fetch(`${gw.origin}/graphql?documentId=def456`, {
      headers: { origin: DASHBOARD, accept: 'application/json' },
    });
    expect((get.headers.get('access-control-expose-headers') ?? '').split(/,\s*/)).toContain('etag');
    const denied = await fetch(`${gw.origin}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
    // The answers differ by Origin, so a cache must key them on it (the CORS helper says so only for lists).
    for (const origin of [DASHBOARD, 'https://evil.example']) {
      const answer = await fetch(`${gw.origin}/graphql?documentId=def456`, {
        headers: { origin, accept: 'application/json' },
      });
      expect(
        answer.headers
          .get('vary')
          ?.split(/,\s*/)
          .map((name) => name.toLowerCase()),
      ).toContain('origin');
      await answer.arrayBuffer();
    }
  });

  it('runs manifest operations by id and refuses any other document', async () => {
    const byId = await post(gw.origin, { documentId: 'sha256:abc123' });
    expect(await byId.json()).toEqual({ data: { trips: { totalCount: '0' } } });
    const apq = await post(gw.origin, { extensions: { persistedQuery: { version: 1, sha256Hash: 'def456' } } });
    expect(await apq.json()).toEqual({ data: { __typename: 'Query' } });
    const arbitrary = await post(gw.origin, { query: '{ trips { totalCount } }' });
    expect(arbitrary.status).toBe(400);
    expect(((await arbitrary.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(
      /only runs persisted operations/,
    );
    // By GET too, the short URL a CDN caches (yoga's GET parser dropped documentId).
    const byGet = await fetch(`${gw.origin}/graphql?documentId=sha256:abc123`, {
      headers: { accept: 'application/json' },
    });
    expect(byGet.status).toBe(200);
    expect(await byGet.json()).toEqual({ data: { trips: { totalCount: '0' } } });
    const unknown = await post(gw.origin, { documentId: 'nope' });
    expect(((await unknown.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(
      /persisted operation not found/,
    );
  });

  it('runs a manifest document sent as text, as a normalized cache sends it, and nothing else that way', async () => {
    // urql's graphcache and Apollo's cache send the text with __typename added, never an id: the dashboard's
    // own client. Refused until 2026-12-06, so the dashboard could not run under PERSISTED_OPERATIONS=only.
    // A client of its own: the block's rate limit (15 per window) counts per client.
    const client = { 'x-forwarded-user': 'persisted-text' };
    for (const query of [manifest.abc123!, 'query Count {\n  trips { totalCount __typename }\n  __typename\n}']) {
      const answer = await post(gw.origin, { query }, client);
      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ data: { trips: { totalCount: '0' } } });
    }
    const byGet = await fetch(`${gw.origin}/graphql?query=${encodeURIComponent('query Ping { __typename }')}`, {
      headers: { accept: 'application/json', ...client },
    });
    expect(await byGet.json()).toEqual({ data: { __typename: 'Query' } });
    const refusedFor = async (body: unknown) => {
      const answer = await post(gw.origin, body, client);
      expect(answer.status).toBe(400);
      return ((await answer.json()) as { errors: { message: string; extensions: { code: string } }[] }).errors[0];
    };
    for (const body of [
      // One more field, another argument, a second operation, or not a document at all.
      { query: 'query Count { trips { totalCount } tripStats { count } }' },
      { query: 'query Count { trips(first: 1) { totalCount } }' },
      { query: `${manifest.abc123!}\nquery Other { tripStats { count } }`, operationName: 'Other' },
      { query: '{ trips {' },
      // A known id beside a foreign document: yoga's plugin runs the text whenever there is one.
      { query: '{ tripStats { count } }', documentId: 'abc123' },
      { query: '{ tripStats { count } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'def456' } } },
    ]) {
      expect(await refusedFor(body)).toMatchObject({
        message: expect.stringMatching(/only runs persisted operations/) as unknown,
        extensions: { code: 'PERSISTED_QUERY_ONLY' },
      });
    }
  });

  it('runs only the manifest documents on the graphql-sse endpoints too (their protocol sends the text)', async () => {
    const streamed = async (path: string, query: string) => {
      const answer = await fetch(`${gw.origin}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query }),
      });
      expect(answer.status).toBe(200);
      return JSON.parse(/^data: (.*)$/m.exec(await answer.text())?.[1] ?? 'null') as unknown;
    };
    for (const path of ['/graphql/stream', '/api/graphql/stream']) {
      // Any other document ran there, while /graphql refused it.
      expect(await streamed(path, '{ tripStats { count } }')).toMatchObject({
        errors: [{ message: expect.stringMatching(/only runs persisted operations/) as unknown }],
      });
      // A manifest document as a normalized cache sends it: __typename added, another layout.
      expect(await streamed(path, 'query Count {\n  trips { totalCount __typename }\n  __typename\n}')).toEqual({
        data: { trips: { totalCount: '0', __typename: 'TripConnection' }, __typename: 'Query' },
      });
    }
  });

  it('serves no GraphiQL', async () => {
    const page = await fetch(`${gw.origin}/graphql`, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toContain('<html');
  });

  it('rate limits one client with 429 and Retry-After, not another, not /health', async () => {
    const client = { 'x-forwarded-user': 'rate-a' };
    const statuses: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      statuses.push((await post(gw.origin, { documentId: 'def456' }, client)).status);
    }
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThan(0);
    const limited = await post(gw.origin, { documentId: 'def456' }, client);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { errors: { message: string }[] }).errors[0]!.message).toMatch(/rate limit/);
    expect((await post(gw.origin, { documentId: 'def456' }, { 'x-forwarded-user': 'rate-b' })).status).toBe(200);
    expect((await fetch(`${gw.origin}/health`)).status).toBe(200);
  });

  it('counts a client as one whatever tokens or first X-Forwarded-For hops it makes up', async () => {
    // Each used to be a new client: 30 of 30 requests passed a limit of 15 (20 here, with the ones above).
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const made = { authorization: `Bearer made-up-${i}`, 'x-forwarded-access-token': `made-up-${i}` };
      statuses.push((await post(gw.origin, { documentId: 'def456' }, { ...made, 'x-real-ip': '10.0.0.7' })).status);
      const spoofed = { 'x-forwarded-for': `203.0.113.${i}, 10.0.0.8` };
      statuses.push((await post(gw.origin, { documentId: 'def456' }, spoofed)).status);
    }
    // Two clients (10.0.0.7 and 10.0.0.8), 10 requests each, a limit of 15: none refused yet. Five more each are.
    expect(statuses.filter((status) => status === 429)).toEqual([]);
    for (let i = 0; i < 6; i += 1) {
      statuses.push(
        (await post(gw.origin, { documentId: 'def456' }, { 'x-real-ip': '10.0.0.7', authorization: `Bearer x${i}` }))
          .status,
      );
      statuses.push(
        (await post(gw.origin, { documentId: 'def456' }, { 'x-forwarded-for': `198.51.100.${i}, 10.0.0.8` })).status,
      );
    }
    expect(statuses.slice(-2)).toEqual([429, 429]);
  });
});

describe('introspection off', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('edge_no_introspection', { GRAPHQL_INTROSPECTION: 'false' });
  });
  afterAll(() => gw.close());

  it('refuses __schema and __type but not __typename', async () => {
    const schema = await gw.query('{ __schema { queryType { name } } }');
    expect(schema.body.errors?.[0]?.message).toMatch(/introspection/i);
    const typename = await gw.query('{ __typename }');
    expect(typename.body).toEqual({ data: { __typename: 'Query' } });
  });
});

describe('OpenTelemetry', () => {
  let receiver: Server;
  const spans: {
    name: string;
    spanId: string;
    parentSpanId?: string;
    traceId: string;
    attributes: { key: string }[];
  }[] = [];
  let gw: LiveGateway;
  beforeAll(async () => {
    // A local OTLP/HTTP (JSON) receiver on loopback.
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const payload = JSON.parse(body) as {
          resourceSpans: { scopeSpans: { spans: (typeof spans)[number][] }[] }[];
        };
        for (const resource of payload.resourceSpans)
          for (const scope of resource.scopeSpans) spans.push(...scope.spans);
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as { port: number };
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${port}`;
    gw = await startLiveGateway('edge_otel', {}, { otelEnv: process.env });
  });
  afterAll(async () => {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    await gw.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('exports the operation span with its SQL statement spans as children', async () => {
    const response = await post(gw.origin, {
      query: 'query Traced { trips(first: 2) { totalCount edges { node { tripId } } } }',
    });
    expect(response.status).toBe(200);
    await gw.app.tracing!.flush();
    const operation = spans.find((span) => span.name === 'graphql.query Traced');
    expect(operation).toBeDefined();
    const statements = spans.filter((span) => span.name === 'db.query' && span.parentSpanId === operation!.spanId);
    expect(statements.length).toBeGreaterThanOrEqual(1);
    expect(statements.every((span) => span.traceId === operation!.traceId)).toBe(true);
    expect(statements[0]!.attributes.map((attribute) => attribute.key)).toContain('db.statement');
  });
});

describe('OpenTelemetry settings', () => {
  it('refuses an endpoint that is no http(s) URL, and an unknown protocol, naming the variable', () => {
    for (const endpoint of ['not a url', 'ftp://collector:4317', 'localhost:4318']) {
      expect(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })).toThrow(
        /^OTEL_EXPORTER_OTLP_ENDPOINT: .* is not an http:\/\/ or https:\/\/ URL/,
      );
    }
    expect(() =>
      tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift' }),
    ).toThrow(/^OTEL_EXPORTER_OTLP_PROTOCOL: "thrift" is not one of grpc, http\/protobuf, http\/json/);
    expect(tracingSettings({})).toBeUndefined();
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })).toEqual({
      endpoint: 'http://c:4318',
      protocol: 'http',
    });
  });

  it('exports over gRPC when OTEL_EXPORTER_OTLP_PROTOCOL=grpc (Databricks Apps telemetry)', async () => {
    // An HTTP/2 server that answers the OTLP trace service's Export as a gRPC server does.
    const calls: { path: string; contentType: string }[] = [];
    const receiver = createHttp2Server((request, response) => {
      calls.push({ path: request.url, contentType: String(request.headers['content-type']) });
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'application/grpc' });
        response.addTrailers({ 'grpc-status': '0' });
        response.end(Buffer.from([0, 0, 0, 0, 0])); // an empty ExportTraceServiceResponse, gRPC-framed
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as { port: number };
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    const gw = await startLiveGateway('edge_otel_grpc', {}, { otelEnv: process.env });
    try {
      const response = await post(gw.origin, { query: 'query Traced { trips(first: 1) { totalCount } }' });
      expect(response.status).toBe(200);
      await gw.app.tracing!.flush();
      expect(calls).toContainEqual({
        path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
        contentType: 'application/grpc',
      });
    } finally {
      await gw.close();
      for (const key of Object.keys(env)) if (!(key in saved)) delete process.env[key];
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  /**
   * A collector answering each export with `status(n)` (n counting from 1), a gateway tracing to it (with
   * `userinfo@` in the endpoint when given), and `requests` traced queries each followed by a flush. Returns the
   * gateway's log lines, the collector's port and how many exports it served.
   */
  async function traceThroughCollector(label: string, status: (n: number) => number, requests: number, userinfo = '') {
    let served = 0;
    const receiver = createServer((request, response) => {
      request.resume();
      served += 1;
      const code = status(served);
      request.on('end', () => response.writeHead(code, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as { port: number };
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://${userinfo}127.0.0.1:${port}`;
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('info', {}, (_level, line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    const gw = await startLiveGateway(label, {}, { otelEnv: process.env, logger });
    try {
      for (let i = 0; i < requests; i += 1) {
        await post(gw.origin, { query: 'query Traced { trips(first: 1) { totalCount } }' });
        // The flush itself rejects with a refused export's error; what matters is what the log said.
        await gw.app.tracing!.flush().catch(() => undefined);
      }
      return { lines, port, served };
    } finally {
      delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
      await gw.close();
      await new Promise((resolve) => receiver.close(resolve));
    }
  }

  it('says when spans cannot be exported, once, without the credentials in the endpoint', async () => {
    // A collector that refuses every export: the exporter dropped the spans and nothing said so.
    const { lines, port } = await traceThroughCollector('edge_otel_refused', () => 401, 3, 'collector:otlp-secret@');
    const warnings = lines.filter((line) => line.msg === 'tracing: spans could not be exported; they are dropped');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', endpoint: `http://collector:***@127.0.0.1:${port}` });
    expect(JSON.stringify(lines)).not.toContain('otlp-secret');
  });

  it('says it once too when the collector refuses every other batch (a size limit, say)', async () => {
    const { lines, served } = await traceThroughCollector('edge_otel_flapping', (n) => (n % 2 === 0 ? 400 : 200), 8);
    expect(served).toBeGreaterThanOrEqual(4);
    // One warning, and no "exported again" between refusals: those alternated, a line per batch.
    const said = lines.filter((line) => String(line.msg).startsWith('tracing: spans'));
    expect(said.map((line) => line.msg)).toEqual(['tracing: spans could not be exported; they are dropped']);
  });
});
