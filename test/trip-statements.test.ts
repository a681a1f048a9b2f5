import type { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type DatabaseConfig } from '../src/config/env.js';
import { createDb, type Db } from '../src/db/database.js';
import { sameParameters } from '../src/db/statement-cache.js';
import { seededRandom, type Random } from '../src/dev/pipeline/random-trips.js';
import { pick, randomFilter, shuffled } from './support/random-filters.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { UserInputError } from '../src/errors.js';
import type { CursorValues } from '../src/trips/cursor.js';
import { resolveOrdering, reverse, TRIP_ORDER_BY, type SortKey, type TripOrderBy } from '../src/trips/ordering.js';
import { parseTripFilter, type ParsedTripFilter } from '../src/trips/parse-filter.js';
import { countTrips, existsAtOrBefore, findTripPage } from '../src/trips/queries.js';
import { installZipZones } from '../src/zones/install-zip-zones.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { insertTrickyTrips } from './support/trips-fixture.js';

/**
 * The trips statements' cached text (db/statement-cache.ts) must send exactly
 * what Kysely compiles for the same request. Random filters, orderings and
 * cursors run twice: on a Db whose cache is warm from earlier requests of the
 * same shapes with other values, and on a fresh Db (an empty cache: Kysely
 * builds and compiles the statement). Text, parameters and rows must be equal.
 */

const ORDER_BY_NAMES = TRIP_ORDER_BY.filter((name) => !name.startsWith('TRIP_ID'));

function randomOrdering(shape: Random): TripOrderBy[] {
  const names = shuffled(shape, ORDER_BY_NAMES).filter(
    (name, index, all) => all.findIndex((other) => other.split('_A')[0] === name.split('_A')[0]) === index,
  );
  const ordering = shuffled(shape, names)
    .filter(
      (name, index, all) =>
        all.findIndex((other) => other.replace(/_(ASC|DESC)$/, '') === name.replace(/_(ASC|DESC)$/, '')) === index,
    )
    .slice(0, 1 + Math.floor(shape() * 2));
  if (shape() < 0.3) ordering.push(pick(shape, ['TRIP_ID_ASC', 'TRIP_ID_DESC'] as const));
  if (shape() < 0.15) return [pick(shape, ['TRIP_ID_ASC', 'TRIP_ID_DESC'] as const)];
  return ordering;
}

function cursorValue(key: SortKey, values: Random): string {
  switch (key.kind) {
    case 'timestamptz':
      return new Date(Date.UTC(2016, 0, 1) + Math.floor(values() * 40) * 3_600_000).toISOString().replace('Z', '123Z');
    case 'float8':
      return String(Math.round(values() * 160) / 10);
    case 'int8':
      return String(Math.floor(values() * 1800));
  }
}

/** NULL or not at random (the text depends on which values are NULL: a shape key must tell them apart). */
function randomCursor(keys: readonly SortKey[], values: Random): CursorValues {
  return keys.map((key) => (key.nullable && values() < 0.3 ? null : cursorValue(key, values)));
}

interface Case {
  filter: ParsedTripFilter;
  keys: SortKey[];
  after?: CursorValues;
  before?: CursorValues;
  limit: number;
  direction: 'forward' | 'backward';
}

function randomCase(shapeSeed: number, valueSeed: number): Case | undefined {
  const shape = seededRandom(shapeSeed);
  const values = seededRandom(valueSeed);
  try {
    const filter = parseTripFilter(shape() < 0.2 ? undefined : randomFilter(shape, values));
    const keys = resolveOrdering(randomOrdering(shape));
    const after = shape() < 0.5 ? randomCursor(keys, values) : undefined;
    const before = shape() < 0.3 ? randomCursor(keys, values) : undefined;
    const direction = shape() < 0.5 ? 'forward' : 'backward';
    return { filter, keys, after, before, limit: Math.floor(values() * 25), direction };
  } catch (error) {
    // An empty range (gt above lt) is refused by the parser; such a filter never reaches a statement.
    if (error instanceof UserInputError) return undefined;
    throw error;
  }
}

describe('cached trips statements', () => {
  let database: TestDatabase;
  let config: DatabaseConfig;
  let warm: Db;
  let warmSent: CompiledQuery[] = [];
  let freshSent: CompiledQuery[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('trip_statements');
    await ensureSyncedTable(database.pool, 'default', 'trips_synced');
    await insertTrickyTrips(database.pool, 600);
    config = loadConfig({ DATABASE_URL: database.url }).database!;
    await installZipZones(database.pool, config.gatewaySchema);
    warm = createDb(database.pool, config, undefined, (query) => warmSent.push(query));
  });
  afterAll(() => database.drop());

  /** What each statement family sends for one case, and answers. */
  async function run(db: Db, request: Case): Promise<unknown[]> {
    const answers: unknown[] = [await findTripPage(db, request)];
    for (const cursor of [request.after, request.before]) {
      if (!cursor) continue;
      answers.push(await existsAtOrBefore(db, request.filter, request.keys, cursor));
      answers.push(await existsAtOrBefore(db, request.filter, reverse(request.keys), cursor));
    }
    answers.push(await countTrips(db, request.filter));
    return answers;
  }

  it('sends what Kysely compiles, for random filters, orderings and cursors', async () => {
    const SHAPES = 60;
    let compared = 0;
    let fromCache = 0;
    for (let index = 0; index < 600; index += 1) {
      const request = randomCase(1 + (index % SHAPES), 10_000 + index);
      if (!request) continue;
      warmSent = [];
      freshSent = [];
      const warmAnswers = await run(warm, request);
      // A new Db has an empty cache: every statement is built and compiled by Kysely.
      const fresh = createDb(database.pool, config, undefined, (query) => freshSent.push(query));
      const freshAnswers = await run(fresh, request);
      const where = `case ${index}: ${request.filter.key} ${JSON.stringify(request)}`;
      expect(warmAnswers, where).toEqual(freshAnswers);
      expect(
        warmSent.map((query) => query.sql),
        where,
      ).toEqual(freshSent.map((query) => query.sql));
      warmSent.forEach((query, position) => {
        const expected = freshSent[position]!.parameters;
        expect(
          sameParameters(query.parameters, expected),
          `${where}\n${JSON.stringify([query.parameters, expected])}`,
        ).toBe(true);
      });
      compared += warmSent.length;
      // CompiledQuery.raw sends a raw node; Kysely's own compile a select node.
      fromCache += warmSent.filter((query) => query.query.kind === 'RawNode').length;
    }
    expect(compared).toBeGreaterThan(1000);
    // Most statements reused a text compiled for an earlier case of the same shape.
    expect(fromCache / compared).toBeGreaterThan(0.5);
  }, 120_000);

  it('compiles afresh on a Db with plugins (they may rewrite the statement)', async () => {
    const sent: CompiledQuery[] = [];
    const db = createDb(database.pool, config, undefined, (query) => sent.push(query));
    const filter = parseTripFilter({ fareAmount: { gte: 5 } });
    await countTrips(db, filter);
    await countTrips(db, filter);
    const withPlugin = db.withPlugin({
      transformQuery: (args) => args.node,
      transformResult: async (args) => args.result,
    });
    await countTrips(withPlugin, filter);
    expect(sent.map((query) => query.query.kind)).toEqual(['SelectQueryNode', 'RawNode', 'SelectQueryNode']);
  });
});
