import type { TripFilter } from '../trips/filter.js';
import { BOROUGHS } from '../zones/nyc-zip-codes.js';
import { builder } from './builder.js';

export const IntFilterInput = builder.inputType('IntFilter', {
  description: 'Integer comparisons. ne and notIn never match NULL (SQL semantics); use isNull to include NULLs.',
  fields: (t) => ({
    eq: t.int(),
    ne: t.int(),
    in: t.intList({ description: 'Must not be empty.' }),
    notIn: t.intList({ description: 'Must not be empty.' }),
    gt: t.int(),
    gte: t.int(),
    lt: t.int(),
    lte: t.int(),
    isNull: t.boolean(),
  }),
});

export const BigIntFilterInput = builder.inputType('BigIntFilter', {
  fields: (t) => ({
    eq: t.field({ type: 'BigInt' }),
    in: t.field({ type: ['BigInt'], description: 'Must not be empty.' }),
    gt: t.field({ type: 'BigInt' }),
    gte: t.field({ type: 'BigInt' }),
    lt: t.field({ type: 'BigInt' }),
    lte: t.field({ type: 'BigInt' }),
  }),
});

export const FloatFilterInput = builder.inputType('FloatFilter', {
  fields: (t) => ({
    eq: t.float(),
    gt: t.float(),
    gte: t.float(),
    lt: t.float(),
    lte: t.float(),
    isNull: t.boolean(),
  }),
});

export const DateTimeFilterInput = builder.inputType('DateTimeFilter', {
  fields: (t) => ({
    gt: t.field({ type: 'DateTime' }),
    gte: t.field({ type: 'DateTime' }),
    lt: t.field({ type: 'DateTime' }),
    lte: t.field({ type: 'DateTime' }),
    isNull: t.boolean(),
  }),
});

export const BoroughFilterInput = builder.inputType('BoroughFilter', {
  description:
    'Conditions on the borough of a ZIP code, from the ZIP reference list (as `Zone.borough`): ' +
    `${BOROUGHS.map((b) => `"${b}"`).join(', ')}. ` +
    'A ZIP that is NULL or not in the list has a NULL borough, which ne and notIn never match (SQL semantics).',
  fields: (t) => ({
    eq: t.string(),
    ne: t.string(),
    in: t.stringList({ description: 'Must not be empty.' }),
    notIn: t.stringList({ description: 'Must not be empty.' }),
    isNull: t.boolean(),
  }),
});

export const TripFilterInput = builder.inputRef<TripFilter>('TripFilter').implement({
  description:
    'Conditions on trips; fields combine with AND. An operator given as null is ignored. ' +
    '`not` is the exact complement of its filter, rows with NULLs included.',
  fields: (t) => ({
    tripId: t.field({ type: BigIntFilterInput }),
    pickupAt: t.field({ type: DateTimeFilterInput }),
    dropoffAt: t.field({ type: DateTimeFilterInput }),
    pickupZip: t.field({ type: IntFilterInput }),
    dropoffZip: t.field({ type: IntFilterInput }),
    fareAmount: t.field({ type: FloatFilterInput }),
    tripDistance: t.field({ type: FloatFilterInput }),
    pickupBorough: t.field({
      type: BoroughFilterInput,
      description:
        'The borough of the pickup ZIP. Same trips as a pickupZip list of that borough, and faster to aggregate.',
    }),
    dropoffBorough: t.field({ type: BoroughFilterInput, description: 'The borough of the dropoff ZIP.' }),
    and: t.field({ type: [TripFilterInput], description: 'All must match. Must not be empty.' }),
    or: t.field({ type: [TripFilterInput], description: 'At least one must match. Must not be empty.' }),
    not: t.field({ type: TripFilterInput }),
  }),
});
