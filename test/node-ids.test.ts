import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { insertTrickyTrips } from './support/trips-fixture.js';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** Malformed global ids, each with what its error must say after `<argument>: `. */
const MALFORMED: [string, string, RegExp][] = [
  ['raw Trip:abc', 'Trip:abc', /^"Trip:abc" is not a node id: it is not base64 \(it looks decoded/],
  ['raw Trip:3 (a decoded real id)', 'Trip:3', /^"Trip:3" is not a node id: it is not base64 \(it looks decoded/],
  [
    'base64 of Trip:',
    b64('Trip:'),
    /^"VHJpcDo=" is not a node id: it decodes to "Trip:"; a Trip key is a 64-bit integer/,
  ],
  ['base64 of Trip:abc', b64('Trip:abc'), /decodes to "Trip:abc"; a Trip key is a 64-bit integer/],
  [
    'base64 of Trip:99999999999999999999',
    b64('Trip:99999999999999999999'),
    /decodes to "Trip:99999999999999999999"; a Trip key is a 64-bit integer/,
  ],
  ['just past int8', b64('Trip:9223372036854775808'), /decodes to "Trip:9223372036854775808"; a Trip key/],
  ['just below int8', b64('Trip:-9223372036854775809'), /decodes to "Trip:-9223372036854775809"; a Trip key/],
  ['a NUL byte after the key', b64('Trip:3\u0000'), /decodes to "Trip:3\\u0000"; a Trip key/],
  ['a NUL byte in the type', b64('Tr\u0000ip:3'), /decodes to "Tr\\u0000ip:3"; a node id is the base64 of/],
  ['a raw NUL byte', '\u0000', /^"\\u0000" is not a node id: it is not base64/],
  ['Trip:1e3', b64('Trip:1e3'), /decodes to "Trip:1e3"; a Trip key/],
  ['Trip:+3', b64('Trip:+3'), /decodes to "Trip:\+3"; a Trip key/],
  ['Trip: 3', b64('Trip: 3'), /decodes to "Trip: 3"; a Trip key/],
  ['Trip:3:3', b64('Trip:3:3'), /decodes to "Trip:3:3"; a Trip key/],
  ['no colon', b64('Trip'), /decodes to "Trip"; a node id is the base64 of "<Type>:<key>"/],
  ['no type', b64(':3'), /decodes to ":3"; a node id is the base64 of/],
  ['Zone: (no key)', b64('Zone:'), /decodes to "Zone:", and "Zone" has no node ids \(only Trip has them\)/],
  ['Zone:10001', b64('Zone:10001'), /decodes to "Zone:10001", and "Zone" has no node ids/],
  ['an unknown type', b64('Taxi:3'), /"Taxi" has no node ids/],
  ['the Query type', b64('Query:3'), /"Query" has no node ids/],
  ['lower-case trip', b64('trip:3'), /"trip" has no node ids/],
  ['non-base64 garbage', '%%%', /^"%%%" is not a node id: it is not base64; a node id is the base64 of/],
  ['base64 without padding', 'VHJpcDozMw', /^"VHJpcDozMw" is not a node id: it is not base64/],
  ['base64url alphabet', b64('Trip:>>?').replace(/\+/g, '-').replace(/\//g, '_'), /is not base64/],
  ['bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0x3a, 0x31]).toString('base64'), /does not decode to text/],
  ['the empty string', '', /^"" is not a node id: a node id is the base64 of/],
  ['a 20,000-character id', 'A'.repeat(20_000), /^"A{40}"… is not a node id: it decodes to "(\\u0000){1,40}"…/],
];

interface NodesAnswer {
  data?: { nodes: ({ tripId: string } | null)[] } | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

const NODES = 'query($ids: [ID!]!) { nodes(ids: $ids) { ... on Trip { tripId } } }';
const NODE = 'query($id: ID!) { node(id: $id) { ... on Trip { tripId } } }';

describe('Relay global ids', () => {
  let gw: TestGateway;
  let good: { id: string; tripId: string }[];
  beforeAll(async () => {
    gw = await startTestGateway('node_ids');
    await insertTrickyTrips(gw.database.pool, 20);
    const { body } = await gw.query<{ trips: { edges: { node: { id: string; tripId: string } }[] } }>(
      '{ trips(first: 2, orderBy: [TRIP_ID_ASC]) { edges { node { id tripId } } } }',
    );
    good = body.data!.trips.edges.map((edge) => edge.node);
    expect(good).toHaveLength(2);
  });
  afterAll(() => gw.close());

  it('a malformed id in nodes is an error at its own index; the good ids around it still resolve', async () => {
    for (const [name, id, expected] of MALFORMED) {
      const { status, body } = await gw.query<NodesAnswer['data']>(NODES, { ids: [good[0]!.id, id, good[1]!.id] });
      expect(status, name).toBe(200);
      expect(body.data?.nodes, name).toEqual([{ tripId: good[0]!.tripId }, null, { tripId: good[1]!.tripId }]);
      expect(body.errors, name).toHaveLength(1);
      const [error] = body.errors!;
      expect(error!.path, name).toEqual(['nodes', 1]);
      expect(error!.extensions, name).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'ids[1]' });
      expect(error!.message.startsWith('ids[1]: '), `${name}: ${error!.message}`).toBe(true);
      expect(error!.message.slice('ids[1]: '.length), name).toMatch(expected);
    }
  });

  it('every malformed id of one nodes list gets its own error, in order, and none reaches Postgres', async () => {
    const ids = MALFORMED.map(([, id]) => id);
    const before = gw.app.statements.total;
    const { body } = (await gw.query(NODES, { ids })) as { body: NodesAnswer };
    expect(gw.app.statements.total - before).toBe(0);
    expect(body.data?.nodes).toEqual(ids.map(() => null));
    expect(body.errors!.map((error) => error.path)).toEqual(ids.map((_, index) => ['nodes', index]));
    body.errors!.forEach((error, index) => {
      expect(error.message.slice(`ids[${index}]: `.length)).toMatch(MALFORMED[index]![2]);
    });
  });

  it('node(id:) answers a malformed id with an error naming it, and null', async () => {
    for (const [name, id, expected] of MALFORMED) {
      const { status, body } = (await gw.query(NODE, { id })) as {
        status: number;
        body: { data?: { node: unknown } | null; errors?: NodesAnswer['errors'] };
      };
      expect(status, name).toBe(200);
      expect(body.data, name).toEqual({ node: null });
      expect(body.errors, name).toHaveLength(1);
      expect(body.errors![0]!.path, name).toEqual(['node']);
      expect(body.errors![0]!.extensions, name).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'id' });
      expect(body.errors![0]!.message.startsWith('id: '), name).toBe(true);
      expect(body.errors![0]!.message.slice('id: '.length), name).toMatch(expected);
    }
  });

  it('gives the same answer when the operation runs compiled (graphql-jit compiles on the second run)', async () => {
    const ids = [good[0]!.id, b64('Trip:'), good[1]!.id, '%%%'];
    const answers = [];
    for (let run = 0; run < 3; run += 1) answers.push((await gw.query(NODES, { ids })).body);
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    expect((answers[0] as NodesAnswer).data?.nodes).toEqual([
      { tripId: good[0]!.tripId },
      null,
      { tripId: good[1]!.tripId },
      null,
    ]);
  });

  it('well-formed ids of trips that do not exist are null without an error, whatever int8 they hold', async () => {
    const ids = ['Trip:-1', 'Trip:0', 'Trip:9223372036854775807', 'Trip:-9223372036854775808'].map(b64);
    const { body } = (await gw.query(NODES, { ids })) as { body: NodesAnswer };
    expect(body.errors).toBeUndefined();
    expect(body.data?.nodes).toEqual([null, null, null, null]);
  });

  it('reads a key with leading zeros as the same trip', async () => {
    const padded = b64(`Trip:000${good[0]!.tripId}`);
    const { body } = (await gw.query(NODES, { ids: [padded, good[0]!.id] })) as { body: NodesAnswer };
    expect(body.errors).toBeUndefined();
    expect(body.data?.nodes).toEqual([{ tripId: good[0]!.tripId }, { tripId: good[0]!.tripId }]);
  });
});
