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
