import { GraphQLError } from 'graphql';
import type { ErrorCode } from '../../errors.js';

/**
 * graphql-armor's refusals ("Syntax Error: Query depth limit of 10 exceeded, found 12.") carry no code, call a
 * valid document a syntax error, and do not say which setting decides. They are rewritten to say what the
 * document has, what is allowed, and the variable that allows it (`extensions.limit`).
 */
const ARMOR_LIMITS: { pattern: RegExp; variable: string; what: (found: string) => string }[] = [
  {
    pattern: /^Syntax Error: Query depth limit of (\d+) exceeded, found (\d+)\.$/,
    variable: 'MAX_QUERY_DEPTH',
    what: (found) => `the query nests selections ${found} levels deep`,
  },
  {
    pattern: /^Syntax Error: Aliases limit of (\d+) exceeded, found (\d+)\.$/,
    variable: 'MAX_ALIASES',
    what: (found) => `the query has ${found} aliases`,
  },
  {
    pattern: /^Syntax Error: Directives limit of (\d+) exceeded, found (\d+)\.$/,
    variable: 'MAX_DIRECTIVES',
    what: (found) => `the query has ${found} directives`,
  },
];

export function withLimitNames(error: Error): Error {
  // Not `instanceof GraphQLError`: graphql-armor is CommonJS and may hold the other copy of graphql's class
  // (the .js build beside the .mjs one an ESM importer gets).
  if (!error.message.startsWith('Syntax Error: ')) return error;
  const nodes = (error as Partial<GraphQLError>).nodes;
  const extensions = (error as Partial<GraphQLError>).extensions;
  for (const { pattern, variable, what } of ARMOR_LIMITS) {
    const match = pattern.exec(error.message);
    if (!match) continue;
    const [, max, found] = match as unknown as [string, string, string];
    return new GraphQLError(`${what(found)}; at most ${max} are allowed (${variable})`, {
      nodes,
      extensions: {
        ...extensions,
        code: 'GRAPHQL_VALIDATION_FAILED' satisfies ErrorCode,
        limit: variable,
        max: Number(max),
        found: Number(found),
      },
    });
  }
  return error;
}
