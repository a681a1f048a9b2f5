import { GraphQLError, Kind } from 'graphql';
import { isCalendarDay } from '../calendar.js';
import { builder } from './builder.js';
import { formatIsoInstant } from './iso-instant.js';

/**
 * A value a scalar refuses. Not a GraphQLError on purpose: graphql-js then reports a literal's refusal on
 * the literal's node, so the gateway can name the argument it was given for (validation-arguments.ts).
 * Variables get a GraphQLError with the same words (asVariableError).
 */
class ScalarInputError extends Error {}

function asVariableError<T>(parse: (value: unknown) => T): (value: unknown) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      throw error instanceof ScalarInputError ? new GraphQLError(error.message) : error;
    }
  };
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function parseBigInt(value: unknown): string {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== 'string' || !/^-?\d{1,19}$/.test(text.trim())) {
    throw new ScalarInputError(`BigInt must be a decimal integer string such as "21932", got ${JSON.stringify(value)}`);
  }
  const parsed = BigInt(text.trim());
  if (parsed < INT64_MIN || parsed > INT64_MAX) {
    throw new ScalarInputError(`BigInt ${text} is outside the 64-bit range`);
  }
  return parsed.toString();
}

builder.scalarType('BigInt', {
  description: 'A 64-bit integer, serialized as a decimal string.',
  serialize: (value) => String(value),
  parseValue: asVariableError(parseBigInt),
  parseLiteral: (ast) => {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT) return parseBigInt(ast.value);
    throw new ScalarInputError('BigInt must be given as a string or integer literal');
  },
});

// Offsets are required: an instant without one is ambiguous (New York? UTC?).
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string' || !ISO_INSTANT.test(value)) {
    throw new ScalarInputError(
      `DateTime must be an ISO-8601 instant with an offset, e.g. "2016-02-14T16:52:13Z", got ${JSON.stringify(value)}`,
    );
  }
  // A Date keeps milliseconds: finer digits would be dropped without a word, and a filter at 07:00:00.0004
  // would then count a trip at 07:00:00 that SQL leaves out.
  const fraction = /\.(\d+)/.exec(value)?.[1] ?? '';
  if (/[1-9]/.test(fraction.slice(3))) {
    throw new ScalarInputError(
      `DateTime ${JSON.stringify(value)} is finer than a millisecond; instants are given to the millisecond at most`,
    );
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new ScalarInputError(`DateTime ${JSON.stringify(value)} is not a valid date`);
  // Date rolls impossible days over (2016-02-30 becomes March 1st): compare the written fields with what it made.
  const [year, month, day] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  if (!isCalendarDay(year, month, day)) {
    throw new ScalarInputError(
      `DateTime ${JSON.stringify(value)} is not a calendar date: ${value.slice(0, 10)} does not exist`,
    );
  }
  // Postgres has no year 0 and the synced data starts in the 2010s; years before 1 AD are certainly mistakes.
  if (year < 1)
    throw new ScalarInputError(`DateTime ${JSON.stringify(value)} is out of range: the year must be 0001 or later`);
  // The instant, not the written date: "0001-01-01T00:00:00+14:00" is in year 0 in UTC, and a year past 9999
  // has no ISO form the driver can send (both reached Postgres and came back as internal errors).
  const utcYear = date.getUTCFullYear();
  if (utcYear < 1 || utcYear > 9999) {
    throw new ScalarInputError(
      `DateTime ${JSON.stringify(value)} is out of range: in UTC it falls in the year ${utcYear}; instants from 0001 to 9999 are accepted`,
    );
  }
  return date;
}

/**
 * The message starts as graphql-js' own serialization failures do ("Float cannot represent …"), which the error
 * masking passes on as the data's doing (server/plugins/error-masking.ts): the field is null with this reason, the
 * rest of the answer stands.
 */
function serializeDateTime(value: unknown): string {
  const date = value instanceof Date ? value : new Date(value as string | number);
  if (Number.isNaN(date.getTime())) {
    const held =
      value === Infinity ? "'infinity'" : value === -Infinity ? "'-infinity'" : JSON.stringify(String(value));
    throw new TypeError(
      `DateTime cannot represent ${held}: the database holds a timestamp that no ISO-8601 instant can express`,
    );
  }
  return formatIsoInstant(date);
}

builder.scalarType('DateTime', {
  description: 'An ISO-8601 instant with offset, e.g. 2016-02-14T16:52:13.000Z.',
  serialize: serializeDateTime,
  parseValue: asVariableError(parseDateTime),
  parseLiteral: (ast) => {
    if (ast.kind === Kind.STRING) return parseDateTime(ast.value);
    throw new ScalarInputError('DateTime must be given as a string literal');
  },
});
