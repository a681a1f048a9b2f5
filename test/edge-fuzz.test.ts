import { readFileSync } from 'node:fs';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLOutputType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { seededRandom, type Random } from '../src/dev/pipeline/random-trips.js';
import { startLiveGateway, type LiveGateway } from './support/live.js';
import { pick } from './support/random-filters.js';
import { insertTrickyTrips } from './support/trips-fixture.js';

/**
 * Seeded fuzzing over a real port, with production's defaults (response cache on): random argument values for
 * every query field that takes arguments (from the committed schema, so a new argument is fuzzed without
 * touching this file), and random transport-level bodies. Whatever a client sends, the answer is never a 5xx,
 * never an INTERNAL_SERVER_ERROR, and the gateway logs no error. The hand-written cases that earlier runs of
 * this kind found (nested variables, a non-string operationName, 400 versus 200 for bad variables) are in
 * test/edge-hostile.test.ts and test/compiled-execution.test.ts; this keeps looking for the next one.
 */
const SEED = 20261203;
const ARGUMENT_REQUESTS = 600;
const BODY_REQUESTS = 300;

const schema = buildSchema(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8'));

const STRINGS = [
  '',
  ' ',
  '0',
  '-1',
  '1e400',
  'NaN',
  '\u0000',
  '\ud800',
  'x'.repeat(3000),
  'America/New_York',
  'Asia/Kathmandu',
  'Etc/GMT+14',
  'Mars/Olympus',
  '+05:30',
  '2016-01-01T00:00:00Z',
  '2016-02-29T23:59:59.999999Z',
  '2016-13-01T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '2016-03-13T02:30:00-05:00',
  'VHJpcDoz',
  Buffer.from('[1,"id:asc",[1e300]]').toString('base64url'),
  Buffer.from('[1,"pickup_at:desc",["2016-01-01T00:00:00Z",5]]').toString('base64url'),
  Buffer.from('Trip:99999999999999999999').toString('base64'),
  '9223372036854775807',
  '-9223372036854775808',
  '99999999999999999999',
  '10001',
  "' OR 1=1 --",
];
const INTS = [0, 1, -1, 2, 7, 100, 101, 1000, 1001, 2147483647, -2147483648];
const FLOATS = [0, 1.5, -1, 1e308, -1e308, 5e-324, 10, 20, 99.99];

/** A value of the type most of the time; a value of another type (or null) now and then. */
function valueOf(random: Random, type: GraphQLInputType, depth = 0): unknown {
  if (isNonNullType(type)) return valueOf(random, type.ofType, depth);
  if (random() < 1 / 30) return null;
  if (isListType(type)) {
    return Array.from({ length: pick(random, [0, 1, 2, 3, 40]) }, () => valueOf(random, type.ofType, depth + 1));
  }
  if (isEnumType(type)) return random() < 1 / 40 ? 'NOT_A_VALUE' : pick(random, type.getValues()).name;
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields());
    const value: Record<string, unknown> = {};
    const count = depth > 3 ? 1 : 1 + Math.floor(random() * Math.min(3, fields.length));
    for (let index = 0; index < count; index += 1) {
      const field = pick(random, fields);
      if (depth > 5 && isInputObjectType(getNamedType(field.type))) continue;
      value[field.name] = valueOf(random, field.type, depth + 1);
    }
    return value;
  }
  if (!isScalarType(type)) return null;
  const mismatch = random() < 1 / 20;
  switch (type.name) {
    case 'Int':
      return mismatch ? pick(random, STRINGS) : pick(random, INTS);
    case 'Float':
      return mismatch ? pick(random, STRINGS) : pick(random, FLOATS);
    case 'Boolean':
      return mismatch ? 'yes' : random() < 0.5;
    default:
      return mismatch ? pick(random, INTS) : pick(random, STRINGS);
  }
}

/** A random selection of the field's type: scalars, and object fields without arguments, three levels deep. */
function selectionOf(random: Random, type: GraphQLOutputType, depth = 0): string {
  const named = getNamedType(type);
  if (!isObjectType(named)) return '';
  const parts: string[] = [];
  for (const field of Object.values(named.getFields())) {
    if (field.args.some((arg) => isNonNullType(arg.type)) || (parts.length > 0 && random() < 0.4)) continue;
    const inner = depth < 3 ? selectionOf(random, field.type, depth + 1) : '';
    if (isObjectType(getNamedType(field.type)) && inner === '') continue;
    parts.push(field.name + inner);
  }
  return ` { ${parts.length > 0 ? parts.join(' ') : '__typename'} }`;
}

function argumentRequest(random: Random, fields: GraphQLField<unknown, unknown>[]): string {
  const field = pick(random, fields);
  const declarations: string[] = [];
  const args: string[] = [];
  const variables: Record<string, unknown> = {};
  for (const arg of field.args) {
    if (!isNonNullType(arg.type) && random() < 0.3) continue;
    declarations.push(`$${arg.name}: ${String(arg.type)}`);
    args.push(`${arg.name}: $${arg.name}`);
    variables[arg.name] = valueOf(random, arg.type);
  }
  // Node's fields are on its implementations: ask for one of them.
  const selection = getNamedType(field.type).name === 'Node' ? ' { id ... on Trip { tripId fareAmount } }' : '';
  const query =
    `query${declarations.length > 0 ? `(${declarations.join(', ')})` : ''} ` +
    `{ ${field.name}${args.length > 0 ? `(${args.join(', ')})` : ''}${selection || selectionOf(random, field.type)} }`;
  return JSON.stringify({ query, variables });
}

function bodyRequest(random: Random): string {
  const nested = (depth: number, inner: string, open = '[', close = ']') =>
    open.repeat(depth) + inner + close.repeat(depth);
  const anyValue = () =>
    pick(random, [pick(random, STRINGS), pick(random, INTS), null, true, [], {}, { x: 1 }, [1, [2, [3]]]]);
  const choice = Math.floor(random() * 6);
  switch (choice) {
    case 0:
      return Buffer.from(Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256))).toString(
        'latin1',
      );
    case 1:
      return JSON.stringify({ query: anyValue(), variables: anyValue(), operationName: anyValue() });
    case 2:
      return JSON.stringify({ query: '{ __typename }', extensions: anyValue(), documentId: anyValue() });
    case 3:
      return `{"query":"{ __typename }","variables":{"v":${nested(Math.floor(random() * 50_000), '1')}}}`;
    case 4:
      return JSON.stringify(Array.from({ length: Math.floor(random() * 5) }, () => ({ query: '{ __typename }' })));
    default:
      return `{"query":${JSON.stringify(nested(Math.floor(random() * 3000), '__typename', '{ a { ', ' } }'))}}`;
  }
}

describe('fuzzing', () => {
  let gw: LiveGateway;
  const errors: string[] = [];
  beforeAll(async () => {
    const logger = createLogger('warn', {}, (level, line) => {
      if (level === 'error') errors.push(line);
    });
    gw = await startLiveGateway('edge_fuzz', { RESPONSE_CACHE: 'on' }, { logger });
    await insertTrickyTrips(gw.database.pool, 60);
  });
  afterAll(() => gw.close());

  async function send(body: string, accept: string) {
    const response = await fetch(`${gw.origin}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept },
      body,
    });
    const text = await response.text();
    return { status: response.status, text };
  }

  function expectNoInternalError(answer: { status: number; text: string }, body: string) {
    const context = `${answer.status} ${answer.text.slice(0, 300)} for ${body.slice(0, 300)}`;
    expect(answer.status, context).toBeLessThan(500);
    expect(answer.text, context).not.toMatch(/INTERNAL_SERVER_ERROR|Unexpected error/);
  }

  it('answers random argument values for every field with a 2xx or 4xx, never an internal error', async () => {
    const random = seededRandom(SEED);
    const root = schema.getQueryType()!;
    const fields = Object.values(root.getFields()).filter((field) => field.args.length > 0);
    expect(fields.map((field) => field.name)).toEqual(expect.arrayContaining(['trips', 'tripGroups', 'tripStats']));
    let answered = 0;
    for (let index = 0; index < ARGUMENT_REQUESTS; index += 1) {
      const body = argumentRequest(random, fields);
      const answer = await send(body, pick(random, ['application/json', 'application/graphql-response+json']));
      expectNoInternalError(answer, body);
      if (answer.status === 200 && answer.text.includes('"data":{')) answered += 1;
    }
    // The values are mostly of the right type: many requests must reach the resolvers, not only coercion.
    expect(answered).toBeGreaterThan(ARGUMENT_REQUESTS / 4);
    expect(errors).toEqual([]);
  });

  it('answers random bodies with a 4xx or a GraphQL error, never an internal error', async () => {
    const random = seededRandom(SEED + 1);
    for (let index = 0; index < BODY_REQUESTS; index += 1) {
      const body = bodyRequest(random);
      expectNoInternalError(await send(body, pick(random, ['application/json', '*/*'])), body);
    }
    expect(errors).toEqual([]);
    const health = await fetch(`${gw.origin}/health`);
    expect(health.status).toBe(200);
  });
});
