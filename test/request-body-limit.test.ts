import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSchema } from '../src/schema/index.js';
import { createGateway, type Gateway } from '../src/server/http/gateway.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

const LIMIT = 300;

describe('request body limit', () => {
  let gw: TestGateway;
  let small: Gateway;
  beforeAll(async () => {
    gw = await startTestGateway('body_limit');
    const { app } = gw;
    const { services } = app;
    small = createGateway({ schema: buildSchema(), services, maxRequestBodyBytes: LIMIT });
  });
  afterAll(() => gw.close());

  const body = (padding: number) =>
    JSON.stringify({ query: `{ trips(first: 1) { totalCount } }${' '.repeat(padding)}` });

  const post = (init: RequestInit & { duplex?: 'half' }) =>
    small.fetch('http://gateway.test/graphql', {
      method: 'POST',
      ...init,
      headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
    });

  const chunked = (text: string) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = new TextEncoder().encode(text);
        for (let at = 0; at < bytes.length; at += 64) controller.enqueue(bytes.subarray(at, at + 64));
        controller.close();
      },
    });

  it('answers a body within the limit, with or without Content-Length', async () => {
    const text = body(10);
    const declared = await post({ body: text, headers: { 'content-length': String(Buffer.byteLength(text)) } });
    expect(declared.status).toBe(200);
    expect(await declared.json()).toEqual({ data: { trips: { totalCount: '0' } } });
    const streamed = await post({ body: chunked(text), duplex: 'half' });
    expect(streamed.status).toBe(200);
    expect(await streamed.json()).toEqual({ data: { trips: { totalCount: '0' } } });
  });

  it('refuses with 413 a body whose Content-Length exceeds the limit, before reading it', async () => {
    const text = body(LIMIT);
    const response = await post({ body: text, headers: { 'content-length': String(Buffer.byteLength(text)) } });
    expect(response.status).toBe(413);
    const answer = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(answer.errors[0]?.extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');
    expect(answer.errors[0]?.message).toContain(`${LIMIT} bytes`);
  });

  it('refuses with 413 a body without Content-Length that grows past the limit', async () => {
    const response = await post({ body: chunked(body(LIMIT)), duplex: 'half' });
    expect(response.status).toBe(413);
    const answer = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(answer.errors[0]?.extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');
  });

  it('refuses a malformed Content-Length with 400', async () => {
    const text = body(0);
    const response = await post({ body: text, headers: { 'content-length': `${text.length}, ${text.length}` } });
    expect(response.status).toBe(400);
  });
});
