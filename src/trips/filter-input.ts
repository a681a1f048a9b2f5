/**
 * TripFilter as GraphQL hands it over (graphql-js has coerced it against the
 * schema in src/schema/filters.ts): operators may be null, lists may be
 * empty, nothing is validated yet. parse-filter.ts turns it into the one
 * validated form every consumer reads.
 */
export type Maybe<T> = T | null | undefined;

export interface IntFilter {
  eq?: Maybe<number>;
  ne?: Maybe<number>;
  in?: Maybe<readonly number[]>;
  notIn?: Maybe<readonly number[]>;
  gt?: Maybe<number>;
  gte?: Maybe<number>;
  lt?: Maybe<number>;
  lte?: Maybe<number>;
  isNull?: Maybe<boolean>;
}

export interface BigIntFilter {
  eq?: Maybe<string>;
  in?: Maybe<readonly string[]>;
  gt?: Maybe<string>;
  gte?: Maybe<string>;
  lt?: Maybe<string>;
  lte?: Maybe<string>;
}

export interface FloatFilter {
  eq?: Maybe<number>;
  gt?: Maybe<number>;
  gte?: Maybe<number>;
  lt?: Maybe<number>;
  lte?: Maybe<number>;
  isNull?: Maybe<boolean>;
}

export interface DateTimeFilter {
  gt?: Maybe<Date>;
  gte?: Maybe<Date>;
  lt?: Maybe<Date>;
  lte?: Maybe<Date>;
  isNull?: Maybe<boolean>;
}

export interface BoroughFilter {
  eq?: Maybe<string>;
  ne?: Maybe<string>;
  in?: Maybe<readonly string[]>;
  notIn?: Maybe<readonly string[]>;
  isNull?: Maybe<boolean>;
}

/**
 * Adding a field here (and to the GraphQL input) fails to compile until every
 * consumer handles it: each one is a table typed over TripFilterField (see
 * FieldTable in parse-filter.ts), and test/filter-exhaustive.test.ts proves it.
 */
export interface TripFilter {
  tripId?: Maybe<BigIntFilter>;
  pickupAt?: Maybe<DateTimeFilter>;
  dropoffAt?: Maybe<DateTimeFilter>;
  pickupZip?: Maybe<IntFilter>;
  dropoffZip?: Maybe<IntFilter>;
  fareAmount?: Maybe<FloatFilter>;
  tripDistance?: Maybe<FloatFilter>;
  pickupBorough?: Maybe<BoroughFilter>;
  dropoffBorough?: Maybe<BoroughFilter>;
  and?: Maybe<readonly TripFilter[]>;
  or?: Maybe<readonly TripFilter[]>;
  not?: Maybe<TripFilter>;
}

/** The conditions on one column (or borough) of a trip; and / or / not combine them. */
export type TripFilterField = Exclude<keyof TripFilter, 'and' | 'or' | 'not'>;
