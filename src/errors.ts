import { GraphQLError } from 'graphql';

/**
 * An error the caller can fix. It reaches the client unmasked, with the
 * argument at fault in `extensions.argument` (e.g. "filter.and[1].fareAmount.in").
 */
export class UserInputError extends GraphQLError {
  constructor(argument: string, message: string, code = 'BAD_USER_INPUT') {
    super(`${argument}: ${message}`, { extensions: { code, argument } });
    this.name = 'UserInputError';
  }
}

/** The message of anything thrown, without assuming it is an Error. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * For logs: the message followed by its chain of causes, so a wrapped error
 * (a pg error inside a sync failure, say) keeps what caused it.
 */
export function describeError(error: unknown): string {
  const parts = [errorMessage(error)];
  let cause = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; cause !== undefined && depth < 5; depth += 1) {
    parts.push(`caused by: ${errorMessage(cause)}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return parts.join('; ');
}
