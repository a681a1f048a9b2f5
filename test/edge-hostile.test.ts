import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostileRequests, type HostileRequest } from './support/hostile-requests.js';
import { startLiveGateway, type LiveGateway } from './support/live.js';
import { insertTrickyTrips } from './support/trips-fixture.js';

/** What the issue asks of each hostile request: an answer within this, never a hang. */
const ANSWER_WITHIN_MS = 1000;

export async function send(origin: string, request: HostileRequest) {
  const started = performance.now();
  const response = await fetch(`${origin}${request.path ?? '/graphql'}`, {
    method: request.method ?? 'GET',
    headers: request.headers,
    body: request.body,
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  let message: string;
  try {
    const body = JSON.parse(text) as { errors?: { message: string }[] };
    message = body.errors?.[0]?.message ?? '';
  } catch {
    message = `${response.status} ${response.statusText} ${text.slice(0, 200)}`;
  }
  return { status: response.status, message, ms, text };
}

/**
 * Every hostile request of issue 14, over a real HTTP port: each gets a 4xx or
 * a GraphQL error with a message that names the problem, promptly, and the
 * gateway keeps serving normal queries in between.
 */
describe('hostile requests', () => {
  let gw: LiveGateway;
  const requests = hostileRequests();
  beforeAll(async () => {
    // With production's default of a response cache: it hashes each request's variables before execution.
    gw = await startLiveGateway('edge_hostile', { RESPONSE_CACHE: 'on' });
    await insertTrickyTrips(gw.database.pool, 50);
  });
  afterAll(() => gw.close());

  it('are at least 60', () => {
    expect(requests.length).toBeGreaterThanOrEqual(60);
    expect(new Set(requests.map((r) => r.name)).size).toBe(requests.length);
  });

  it.each(requests.map((request) => [request.name, request] as const))('%s', async (_name, request) => {
    const answer = await send(gw.origin, request);
    expect(answer.status, answer.text.slice(0, 300)).toBeLessThan(500);
    if (answer.status < 400) expect(answer.message, answer.text.slice(0, 300)).not.toBe('');
    expect(answer.message, answer.text.slice(0, 300)).toMatch(request.expect);
    expect(answer.message).not.toMatch(/Unexpected error|Internal error|Validation aborted\.$/);
    // The process still serves.
    const ok = await gw.query<{ trips: { totalCount: string } }>('{ trips { totalCount } }');
    expect(ok.body.data?.trips.totalCount).toBe('50');
  });

  it('bad node ids do not null the good ones', async () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const ids = [b64('Trip:abc'), b64('Trip:3'), b64('Trip:'), '%%%', b64('Zone:10001'), b64('Trip:6')];
    const { body } = await gw.query<{ nodes: ({ id: string } | null)[] }>(
      'query($ids: [ID!]!) { nodes(ids: $ids) { id } }',
      { ids },
    );
    expect(body.data?.nodes).toEqual([null, { id: ids[1] }, null, null, null, { id: ids[5] }]);
    expect(body.errors?.map((error) => error.path)).toEqual([
      ['nodes', 0],
      ['nodes', 2],
      ['nodes', 3],
      ['nodes', 4],
    ]);
  });

  it('2016-02-29 (a leap day) is still accepted', async () => {
    const { body } = await gw.query('{ trips(filter: { pickupAt: { gte: "2016-02-29T00:00:00Z" } }) { totalCount } }');
    expect(body.errors).toBeUndefined();
  });
});
