import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { insertTrickyTrips } from './support/trips-fixture.js';

/**
 * Every malformed request gets a GraphQL error that names what was wrong, and
 * never a 500: the server keeps answering the next request normally.
 */
describe('bad input', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('bad_input', { MAX_QUERY_DEPTH: '4', MAX_ALIASES: '20' });
    await insertTrickyTrips(gw.database.pool, 50);
  });
  afterAll(() => gw.close());

  async function expectError(query: string, variables: Record<string, unknown>, pattern: RegExp, argument?: string) {
    const { status, body } = await gw.query(query, variables);
    expect(status).toBeLessThan(500);
    expect(body.errors?.length).toBeGreaterThan(0);
    const error = body.errors![0]!;
    expect(error.message).toMatch(pattern);
    if (argument) expect(error.extensions?.argument).toBe(argument);
    // The process still serves.
    const ok = await gw.query('{ trips(first: 1) { edges { node { tripId } } } }');
    expect(ok.body.errors).toBeUndefined();
  }

  const TRIPS = `query($first: Int, $last: Int, $after: String, $before: String, $filter: TripFilter, $orderBy: [TripOrderBy!]) {
    trips(first: $first, last: $last, after: $after, before: $before, filter: $filter, orderBy: $orderBy) {
      edges { node { tripId } } } }`;

  it('rejects an oversized page', () =>
    expectError(TRIPS, { first: 100000 }, /^first: 100000 exceeds the maximum page size of 1000/, 'first'));

  it('rejects an oversized last', () => expectError(TRIPS, { last: 1001 }, /maximum page size/, 'last'));

  it('rejects a negative page size', () => expectError(TRIPS, { first: -1 }, /must not be negative/, 'first'));

  it('rejects first together with last', () =>
    expectError(TRIPS, { first: 10, last: 10 }, /cannot be combined with last/, 'first'));

  it('rejects a garbage cursor', () =>
    expectError(TRIPS, { first: 10, after: 'not a cursor!' }, /^after: is not a valid cursor/, 'after'));

  it('rejects a well-encoded cursor with bad content', () =>
    expectError(
      TRIPS,
      {
        first: 10,
        after: Buffer.from(JSON.stringify([1, 'id:asc', ['1; DROP TABLE x']])).toString('base64url'),
        orderBy: ['TRIP_ID_ASC'],
      },
      /is not a valid cursor/,
      'after',
    ));

  it('rejects a cursor issued for another ordering', async () => {
    const { body } = await gw.query<{ trips: { pageInfo: { endCursor: string } } }>(
      '{ trips(first: 2, orderBy: [FARE_AMOUNT_ASC]) { pageInfo { endCursor } } }',
    );
    const cursor = body.data!.trips.pageInfo.endCursor;
    // In the API's words, not the table's columns.
    await expectError(
      TRIPS,
      { first: 2, after: cursor, orderBy: ['PICKUP_AT_DESC'] },
      /^after: cursor was issued for orderBy: \[FARE_AMOUNT_ASC\]; cursors are only valid/,
      'after',
    );
    await expectError(TRIPS, { last: 2, before: cursor }, /issued for orderBy: \[FARE_AMOUNT_ASC\]/, 'before');
    // A forged signature is not echoed back.
    const forged = Buffer.from(JSON.stringify([1, '<script>:asc', ['1']])).toString('base64url');
    await expectError(
      TRIPS,
      { first: 2, after: forged },
      /^after: cursor was issued for a different orderBy; /,
      'after',
    );
  });

  it('rejects an unknown enum value', () =>
    expectError('{ trips(orderBy: [PICKUP_AT_SIDEWAYS]) { totalCount } }', {}, /PICKUP_AT_SIDEWAYS/));

  it('rejects an unknown enum value given as a variable', () =>
    expectError(TRIPS, { orderBy: ['FARE'] }, /"FARE".*TripOrderBy|TripOrderBy.*"FARE"/));

  it('rejects an empty orderBy and a repeated key', async () => {
    await expectError(TRIPS, { orderBy: [] }, /orderBy: must list at least one/, 'orderBy');
    await expectError(TRIPS, { orderBy: ['FARE_AMOUNT_ASC', 'FARE_AMOUNT_DESC'] }, /more than once/, 'orderBy');
  });

  it('rejects an empty in list, naming its path', () =>
    expectError(
      TRIPS,
      { filter: { or: [{ fareAmount: { gt: 1 } }, { pickupZip: { in: [] } }] } },
      /^filter\.or\[1\]\.pickupZip\.in: must not be empty/,
      'filter.or[1].pickupZip.in',
    ));

  it('rejects an unknown borough, listing the known ones', async () => {
    await expectError(
      TRIPS,
      { filter: { and: [{ pickupBorough: { in: ['Queens', 'Brookyln'] } }] } },
      /^filter\.and\[0\]\.pickupBorough\.in\[1\]: "Brookyln" is not a borough; use one of "Manhattan", "Brooklyn"/,
      'filter.and[0].pickupBorough.in[1]',
    );
    await expectError(TRIPS, { filter: { dropoffBorough: { notIn: [] } } }, /dropoffBorough\.notIn: must not be empty/);
  });

  it('rejects an empty or list', () =>
    expectError(TRIPS, { filter: { or: [] } }, /filter\.or: must list at least one/));

  it('rejects a non-numeric BigInt', async () => {
    await expectError(TRIPS, { filter: { tripId: { eq: '12abc' } } }, /BigInt must be a decimal integer/);
    await expectError('{ trip(tripId: "twelve") { tripId } }', {}, /BigInt must be a decimal integer/);
    await expectError('{ trip(tripId: "99999999999999999999") { tripId } }', {}, /BigInt/);
  });

  it('rejects a DateTime whose offset takes the instant out of the years 0001-9999 (Postgres refused it)', async () => {
    await expectError(
      TRIPS,
      { filter: { pickupAt: { gte: '0001-01-01T00:00:00+14:00' } } },
      /"0001-01-01T00:00:00\+14:00" is out of range: in UTC it falls in the year 0; instants from 0001 to 9999/,
      '$filter',
    );
    await expectError(
      '{ tripStats(filter: { dropoffAt: { lt: "9999-12-31T23:59:59-14:00" } }) { count } }',
      {},
      /^filter\.dropoffAt\.lt: DateTime "9999-12-31T23:59:59-14:00" is out of range: in UTC it falls in the year 10000/,
      'filter.dropoffAt.lt',
    );
  });

  it('rejects a DateTime finer than a millisecond (a Date dropped the digits and answers disagreed with SQL)', async () => {
    await expectError(
      '{ tripStats(filter: { pickupAt: { gte: "2016-03-13T07:00:00.0004Z" } }) { count } }',
      {},
      /^filter\.pickupAt\.gte: DateTime "2016-03-13T07:00:00\.0004Z" is finer than a millisecond/,
      'filter.pickupAt.gte',
    );
    // Zeros past the millisecond say nothing more, and are accepted.
    const { body } = await gw.query(
      '{ tripStats(filter: { pickupAt: { gte: "2016-03-13T07:00:00.123000Z" } }) { count } }',
    );
    expect(body.errors).toBeUndefined();
  });

  it('rejects a DateTime without an offset', () =>
    expectError(TRIPS, { filter: { pickupAt: { gte: '2016-01-01 10:00' } } }, /DateTime must be an ISO-8601 instant/));

  it('rejects an inverted range, naming the field', async () => {
    await expectError(
      TRIPS,
      { filter: { fareAmount: { gte: 50, lte: 10 } } },
      /^filter\.fareAmount: the range is empty \(gte 50 and lte 10\)/,
      'filter.fareAmount',
    );
    await expectError(
      TRIPS,
      { filter: { pickupAt: { gt: '2016-02-01T00:00:00Z', lt: '2016-02-01T00:00:00Z' } } },
      /pickupAt: the range is empty/,
    );
    await expectError(TRIPS, { filter: { tripId: { gt: '10', lt: '5' } } }, /tripId: the range is empty/);
    // Both lower bounds given: the tighter one (gte 10) crosses lt 7, although gt 5 alone would not.
    await expectError(
      TRIPS,
      { filter: { fareAmount: { gt: 5, gte: 10, lt: 7 } } },
      /^filter\.fareAmount: the range is empty \(gte 10 and lt 7\)/,
      'filter.fareAmount',
    );
    await expectError(
      TRIPS,
      { filter: { fareAmount: { gte: 3, lt: 9, lte: 2 } } },
      /^filter\.fareAmount: the range is empty \(gte 3 and lte 2\)/,
    );
  });

  it('rejects the conditions of one field that no value meets, as an empty range is (they used to answer nothing)', async () => {
    const nothing = (field: string, why: string) =>
      new RegExp(`^filter\\.${field}: no value meets every condition \\(${why}\\); the filter would match nothing$`);
    await expectError(TRIPS, { filter: { fareAmount: { eq: 5, gt: 10 } } }, nothing('fareAmount', 'eq 5 and gt 10'));
    await expectError(
      TRIPS,
      { filter: { pickupZip: { eq: 10001, ne: 10001 } } },
      nothing('pickupZip', 'eq 10001 and ne 10001'),
    );
    await expectError(
      TRIPS,
      { filter: { pickupZip: { in: [10001, 10002], notIn: [10002, 10001, 10003] } } },
      nothing('pickupZip', 'in \\[10001, 10002\\] and notIn \\[10002, 10001, 10003\\]'),
      'filter.pickupZip',
    );
    await expectError(
      TRIPS,
      { filter: { tripId: { in: ['1', '2'], gte: '3' } } },
      nothing('tripId', 'gte 3 and in \\[1, 2\\]'),
    );
    await expectError(
      TRIPS,
      { filter: { tripDistance: { isNull: true, gt: 1 } } },
      nothing('tripDistance', 'isNull true and gt: NULL meets no comparison'),
    );
    await expectError(
      TRIPS,
      { filter: { pickupBorough: { eq: 'Queens', notIn: ['Queens', 'Bronx'] } } },
      nothing('pickupBorough', 'eq Queens and notIn \\[Queens, Bronx\\]'),
    );
    // Conditions some value meets are answered, whatever else they look like.
    const met = [
      { fareAmount: { eq: 5, gte: 5, lt: 6 } },
      { pickupZip: { in: [10001, 10002], notIn: [10001] } },
      { tripId: { in: ['1', '9'], gt: '3' } },
      { tripDistance: { isNull: false, gt: 1 } },
      { pickupBorough: { in: ['Queens', 'Bronx'], ne: 'Queens' } },
    ];
    for (const filter of met) {
      const { body } = await gw.query(TRIPS, { filter });
      expect(body.errors, JSON.stringify(filter)).toBeUndefined();
    }
  });

  it('rejects a filter of more than 200 conditions, naming the filter and where the limit was reached', () =>
    expectError(
      TRIPS,
      { filter: { or: Array.from({ length: 201 }, (_, i) => ({ fareAmount: { gte: i, lt: i + 1 } })) } },
      /^filter: has more than 200 conditions in all \(the limit for one filter, reached at filter\.or\[100\]\.fareAmount\); list values in one `in`/,
      'filter',
    ));

  it('rejects filters nested too deeply', () => {
    let filter: Record<string, unknown> = { fareAmount: { gt: 1 } };
    for (let level = 0; level < 12; level += 1) filter = { not: filter };
    return expectError(TRIPS, { filter }, /nest deeper than 8 levels/);
  });

  it('rejects a query nested past the depth limit, naming the setting', async () => {
    const { body } = await gw.query('{ trips { edges { node { pickupZone { zip } } } } }');
    expect(body.errors![0]).toMatchObject({
      message: 'the query nests selections 5 levels deep; at most 4 are allowed (MAX_QUERY_DEPTH)',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'MAX_QUERY_DEPTH', max: 4, found: 5 },
    });
  });

  it('counts the fields a query nests, not its fragment spreads (Relay and Apollo chain fragments)', async () => {
    const { body } = await gw.query(
      '{ trips(first: 1) { ...Edges } } fragment Edges on TripConnection { edges { ...Node } } ' +
        'fragment Node on TripEdge { node { ... on Trip { tripId } } }',
    );
    expect(body.errors).toBeUndefined();
  });

  it('rejects too many aliases, naming the setting', async () => {
    const fields = Array.from({ length: 30 }, (_, i) => `a${i}: trip(tripId: "${i}") { tripId }`).join(' ');
    const { body } = await gw.query(`{ ${fields} }`);
    expect(body.errors![0]).toMatchObject({
      message: 'the query has 30 aliases; at most 20 are allowed (MAX_ALIASES)',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'MAX_ALIASES' },
    });
  });

  it('rejects too many directives, naming the setting', async () => {
    const { body } = await gw.query(`{ __typename ${'@skip(if: false) '.repeat(60)}}`);
    expect(body.errors![0]).toMatchObject({
      message: 'the query has 60 directives; at most 50 are allowed (MAX_DIRECTIVES)',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'MAX_DIRECTIVES' },
    });
  });

  describe('a literal the schema refuses names the argument, as every other refusal does', () => {
    async function expectLiteralError(query: string, pattern: RegExp, argument: string) {
      const { status, body } = await gw.query(query);
      expect(status).toBe(400);
      const error = body.errors![0]!;
      expect(error.message).toMatch(pattern);
      expect(error.extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED', argument });
      expect(error.locations).toHaveLength(1);
    }

    it('a scalar of ours, in its own words', async () => {
      await expectLiteralError(
        '{ trip(tripId: "twelve") { tripId } }',
        /^tripId: BigInt must be a decimal integer string such as "21932", got "twelve"$/,
        'tripId',
      );
      await expectLiteralError(
        '{ trips(filter: { and: [{ fareAmount: { gt: 1 } }, { pickupAt: { gte: "2016-02-30T00:00:00Z" } }] }) { totalCount } }',
        /^filter\.and\[1\]\.pickupAt\.gte: DateTime "2016-02-30T00:00:00Z" is not a calendar date/,
        'filter.and[1].pickupAt.gte',
      );
    });

    it("graphql-js' built-in scalars, unknown input fields and directive arguments", async () => {
      await expectLiteralError('{ trips(first: "x") { totalCount } }', /^first: Int cannot represent/, 'first');
      await expectLiteralError(
        '{ trips(filter: { fareAmount: { gt: 1, around: 3 } }) { totalCount } }',
        /^filter\.fareAmount\.around: Field "around" is not defined/,
        'filter.fareAmount.around',
      );
      await expectLiteralError(
        '{ trips(first: 1) @include(if: "yes") { totalCount } }',
        /^@include\.if: Boolean cannot represent/,
        '@include.if',
      );
    });
  });

  it('a variable graphql-js cannot coerce is BAD_USER_INPUT naming the variable', async () => {
    for (const variables of [{ filter: { tripId: { eq: '12abc' } } }, { first: 'ten' }]) {
      const { status, body } = await gw.query(TRIPS, variables);
      expect(status).toBe(400);
      expect(body.errors![0]!.extensions).toEqual({
        code: 'BAD_USER_INPUT',
        argument: `$${Object.keys(variables)[0]}`,
      });
    }
    const { body } = await gw.query(TRIPS, { filter: { tripId: { eq: '12abc' } } });
    expect(body.errors![0]!.message).toMatch(
      /^Variable "\$filter" got invalid value "12abc" at "filter\.tripId\.eq"; BigInt/,
    );
    const missing = await gw.query('query($id: BigInt!) { trip(tripId: $id) { tripId } }', {});
    expect(missing.body.errors![0]!).toMatchObject({
      message: 'Variable "$id" of required type "BigInt!" was not provided.',
      extensions: { code: 'BAD_USER_INPUT', argument: '$id' },
    });
  });
});

describe('unexpected errors', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('masking');
  });
  afterAll(() => gw.close());

  it('are masked, carry the request id, and do not leak SQL', async () => {
    // A column the gateway reads, gone: nothing a client can act on (a missing table has its own code).
    await gw.database.pool.query('ALTER TABLE "default".trips_synced RENAME COLUMN fare_amount TO fare_gone');
    const { status, body } = await gw.query(
      '{ trips(first: 1) { edges { node { tripId fareAmount } } } }',
      {},
      {
        'x-request-id': 'req-test-42',
      },
    );
    expect(status).toBeLessThan(500);
    expect(body.errors?.[0]?.message).toBe('Internal error; it was logged with this request id.');
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'INTERNAL_SERVER_ERROR', requestId: 'req-test-42' });
    // (`locations` has a "column" key of its own.)
    expect(JSON.stringify(body)).not.toMatch(/trips_synced|fare_|does not exist|relation/);
  });
});

describe('query cost', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('cost', { MAX_QUERY_COST: '5000' });
  });
  afterAll(() => gw.close());

  const QUERY = `query($n: Int) { trips(first: $n) { edges { node { tripId fareAmount pickupZone { zip borough } } } } }`;

  it('scales with the page size the query asks for, known only from its variables', async () => {
    const small = await gw.query(QUERY, { n: 100 });
    expect(small.body.errors).toBeUndefined();
    const large = await gw.query(QUERY, { n: 1000 });
    expect(large.status).toBeLessThan(500);
    expect(large.body.errors?.[0]?.message).toMatch(/^query cost \d+ exceeds the limit of 5000/);
    expect(large.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_COMPLEX');
  });

  it('counts fragments and multiplies through nested lists', async () => {
    const { body } = await gw.query(
      `fragment T on Trip { tripId fareAmount pickupZone { zip borough neighborhood } dropoffZone { zip borough } }
       { a: trips(first: 400) { edges { node { ...T } } } b: trips(first: 400) { edges { node { ...T } } } }`,
    );
    expect(body.errors?.[0]?.message).toMatch(/query cost/);
  });

  it('counts fragments that spread fragments once each, not once per spread', async () => {
    // 700 spreads of F1, each 700 of F2, each 700 of F3: 343 million uses of viewer { canRefresh } (2 points).
    // Walked spread by spread, this blocked the event loop for 35 s before answering.
    const spreads = (name: string) => Array.from({ length: 700 }, () => `...${name}`).join(' ');
    const { status, body } = await gw.query(
      `query Q { ...F0 } fragment F0 on Query { ${spreads('F1')} } fragment F1 on Query { ${spreads('F2')} }
       fragment F2 on Query { ${spreads('F3')} } fragment F3 on Query { viewer { canRefresh } }`,
    );
    expect(status).toBeLessThan(500);
    expect(body.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/^query cost 686000000 exceeds the limit of 5000/) as unknown,
      extensions: { code: 'QUERY_TOO_COMPLEX', cost: 686_000_000, maxCost: 5000 },
    });
  });
});
