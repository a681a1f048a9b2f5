import { execute, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLevel } from '../src/config/env.js';
import { createLogger } from '../src/logger.js';
import { buildSchema } from '../src/schema/index.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { insertTrickyTrips } from './support/trips-fixture.js';

/**
 * The gateway runs queries compiled by graphql-jit. Its answers must be the
 * ones graphql-js gives for the same operation on the same data: data, nulls,
 * errors and their paths. Each case also checks which executor ran, from the
 * gateway's own debug log.
 */
describe('compiled execution', () => {
  let gw: TestGateway;
  const log: { level: LogLevel; msg: string; operationName?: string }[] = [];
  const schema = buildSchema();

  beforeAll(async () => {
    const logger = createLogger('debug', {}, (level, line) => log.push({ level, ...JSON.parse(line) }));
    gw = await startTestGateway('compiled_execution', {}, { logger });
    await insertTrickyTrips(gw.database.pool, 300);
  });
  afterAll(() => gw.close());

  /** The same operation through plain graphql-js, serialized as the HTTP answer would be. */
  async function referenceAnswer(query: string, variables?: Record<string, unknown>): Promise<unknown> {
    const { app, config } = gw;
    const contextValue = {
      config,
      db: app.db,
      statements: app.statements,
      logger: createLogger('error', {}, () => {}),
      request: new Request('http://reference.test/graphql'),
      requestId: 'reference',
    };
    const result = await execute({ schema, document: parse(query), variableValues: variables, contextValue });
    return JSON.parse(JSON.stringify(result));
  }

  const executorLog = (operationName: string) =>
    log
      .filter((entry) => entry.operationName === operationName && entry.msg.startsWith('operation '))
      .map((e) => e.msg);

  /**
   * Documents are compiled from their second execution (a stream of distinct documents is never compiled):
   * the first run warms it up on graphql-js, the second is the compiled answer.
   */
  async function queryTwice(query: string, variables?: Record<string, unknown>) {
    await gw.query(query, variables);
    return gw.query(query, variables);
  }

  async function expectSameAnswer(
    operationName: string,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const { status, body } = await queryTwice(query, variables);
    expect(status).toBe(200);
    const reference = (await referenceAnswer(query, variables)) as Record<string, unknown>;
    expect(body).toEqual(reference);
    expect(reference.data).toBeTruthy();
    return body as Record<string, unknown>;
  }

  it('answers a page with cursors, nulls, zones, computed fields and an inline filter like graphql-js', async () => {
    const query = `query Page {
      trips(first: 40, orderBy: [FARE_AMOUNT_DESC, PICKUP_AT_ASC],
            filter: { or: [{ fareAmount: { gte: 10 } }, { pickupZip: { isNull: true } }], not: { dropoffZip: { eq: 11201 } } }) {
        totalCount
        edges { cursor node { id tripId pickupAt dropoffAt tripDistance fareAmount pickupZip dropoffZip durationMinutes
                               pickupZone { zip borough neighborhood } dropoffZone { zip borough } } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      } }`;
    const body = await expectSameAnswer('Page', query);
    const edges = (body.data as { trips: { edges: { node: { pickupZip: number | null } }[] } }).trips.edges;
    expect(edges).toHaveLength(40);
    expect(edges.some((edge) => edge.node.pickupZip === null)).toBe(true);
    expect(executorLog('Page')).toEqual(['operation compiled']);
  });

  it('handles variables, aliases, fragments and __typename like graphql-js', async () => {
    const first = await gw.query<{ trips: { pageInfo: { endCursor: string } } }>(
      '{ trips(first: 10, orderBy: [PICKUP_AT_DESC]) { pageInfo { endCursor } } }',
    );
    const query = `query Walk($first: Int, $after: String, $order: [TripOrderBy!]) {
      next: trips(first: $first, after: $after, orderBy: $order) { ...page }
      tail: trips(last: 5) { ...page }
    }
    fragment page on TripConnection { __typename edges { node { ... on Trip { tripId pickupAt } } } pageInfo { hasPreviousPage } }`;
    await expectSameAnswer('Walk', query, {
      first: 7,
      after: first.body.data!.trips.pageInfo.endCursor,
      order: ['PICKUP_AT_DESC'],
    });
    expect(executorLog('Walk')).toEqual(['operation compiled']);
  });

  it('resolves Relay nodes through the Node interface like graphql-js', async () => {
    const page = await gw.query<{ trips: { edges: { node: { id: string } }[] } }>(
      '{ trips(first: 3, orderBy: [TRIP_ID_ASC]) { edges { node { id } } } }',
    );
    const ids = page.body.data!.trips.edges.map((edge) => edge.node.id);
    const query = `query Nodes($id: ID!, $ids: [ID!]!) {
      node(id: $id) { __typename id ... on Trip { tripId fareAmount } }
      nodes(ids: $ids) { id ... on Trip { pickupZone { borough } } }
      trip(tripId: "3") { tripId } missing: trip(tripId: "424242") { tripId }
    }`;
    await expectSameAnswer('Nodes', query, { id: ids[0], ids });
    expect(executorLog('Nodes')).toEqual(['operation compiled']);
  });

  it('reports a resolver’s input error with the same message, path and argument', async () => {
    const query = 'query TooMany { trips(first: 1001) { edges { node { tripId } } } }';
    const { body } = await queryTwice(query);
    expect(body).toEqual(await referenceAnswer(query));
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'first' });
    expect(executorLog('TooMany')).toEqual(['operation compiled']);
  });

  it('compiles an operation with a recursive TripFilter variable, coercing it with graphql-js', async () => {
    const query = `query Filtered($filter: TripFilter) {
      trips(first: 20, orderBy: [TRIP_ID_ASC], filter: $filter) { edges { node { tripId fareAmount } } } }`;
    const filter = { and: [{ fareAmount: { gte: 5 } }, { not: { pickupZip: { in: [10001, 10011] } } }] };
    await expectSameAnswer('Filtered', query, { filter });
    await expectSameAnswer('Filtered', query, { filter: { tripId: { lte: '300' } }, unused: 1 });
    expect(executorLog('Filtered')).toEqual(['operation compiled']);
  });

  it('reports bad variables exactly as graphql-js does', async () => {
    const query = `query BadVariables($first: Int, $filter: TripFilter, $order: [TripOrderBy!]) {
      trips(first: $first, filter: $filter, orderBy: $order) { totalCount } }`;
    const variables = { first: 'many', filter: { or: [{ tripId: { eq: 'x1' } }], bogus: 1 }, order: ['SIDEWAYS'] };
    const first = await gw.query(query, variables);
    const { status, body } = await gw.query(query, variables);
    const reference = (await referenceAnswer(query, variables)) as { errors: unknown[] };
    expect(reference.errors.length).toBeGreaterThanOrEqual(3);
    // graphql-js' errors, each with the code and variable name the gateway adds (validation-arguments.ts).
    expect({ errors: body.errors!.map(({ extensions: _extensions, ...error }) => error) }).toEqual(reference);
    expect(body.errors!.map((error) => error.extensions)).toEqual(
      reference.errors.map((error) => ({
        code: 'BAD_USER_INPUT',
        argument: /^Variable "(\$\w+)"/.exec((error as { message: string }).message)![1],
      })),
    );
    // A request error, as yoga's executor answers the first (uncompiled) request; it used to be 200 once compiled.
    expect([first.status, status]).toEqual([400, 400]);
    // (yoga's executor prints the offending value one level deeper; the errors and their places are the same.)
    const places = (errors: readonly { locations?: unknown }[] | undefined) => errors?.map((error) => error.locations);
    expect(places(first.body.errors)).toEqual(places(body.errors));
    expect(executorLog('BadVariables')).toEqual(['operation compiled']);
    // GraphQL over HTTP: a response without data must not be a 2xx under application/graphql-response+json.
    const spec = await gw.query(query, variables, { accept: 'application/graphql-response+json' });
    expect(spec.status).toBe(400);
  });

  it('compiles a document from its second execution only, and never a large one', async () => {
    const query = 'query Once { trips(first: 2) { edges { node { tripId } } } }';
    await gw.query(query);
    expect(executorLog('Once')).toEqual([]);
    await gw.query(query);
    expect(executorLog('Once')).toEqual(['operation compiled']);
    const large = `query Large { trips(first: 1) { edges { node { tripId } } } } # ${'x'.repeat(20_000)}`;
    await queryTwice(large);
    await gw.query(large);
    expect(executorLog('Large')).toEqual([]);
  });
});

/** The off switch (src/server/fast-paths/README.md): GRAPHQL_JIT=off runs every query on graphql-js, same answers. */
describe('compiled execution switched off (GRAPHQL_JIT=off)', () => {
  let gw: TestGateway;
  const log: { msg: string; operationName?: string }[] = [];

  beforeAll(async () => {
    const logger = createLogger('debug', {}, (_level, line) => log.push(JSON.parse(line)));
    gw = await startTestGateway('compiled_execution_off', { GRAPHQL_JIT: 'off' }, { logger });
    await insertTrickyTrips(gw.database.pool, 50);
  });
  afterAll(() => gw.close());

  it('answers on graphql-js and never compiles', async () => {
    const query = `query Off($filter: TripFilter) {
      trips(first: 5, orderBy: [TRIP_ID_ASC], filter: $filter) { edges { node { tripId pickupZone { zip } } } } }`;
    const { status, body } = await gw.query(query, { filter: { fareAmount: { gte: 0 } } });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect((body.data as { trips: { edges: unknown[] } }).trips.edges).toHaveLength(5);
    expect(gw.config.fastPaths.graphqlJit).toBe(false);
    expect(log.filter((entry) => entry.msg.startsWith('operation '))).toEqual([]);
  });
});
