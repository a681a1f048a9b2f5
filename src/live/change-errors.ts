import { GraphQLError } from 'graphql';
import { UserInputError } from '../errors.js';
import { RECOVER_HINT } from './capture/cursor.js';
import { CURSOR_EXPIRED } from './stream-cursor.js';

/** Why an exact stream (change-feed.ts) cannot go on, each with the way to recover (RECOVER_HINT). */

/**
 * `catching up`: the cursor was valid when the subscription started, but the stream, still catching up from
 * it, fell behind what the change record keeps (retention is applied by every gateway sharing the gateway
 * schema, so the shortest LIVE_CHANGE_RETENTION_SECONDS among them is the one that counts).
 */
export function cursorExpired(argument: string, when: 'at start' | 'catching up' = 'at start'): GraphQLError {
  // The horizon moves up for two reasons: retention, and the capture put back on the table (by any gateway).
  const why =
    '(older than LIVE_CHANGE_RETENTION_SECONDS, the shortest among gateways sharing GATEWAY_SCHEMA, or the ' +
    'change capture was put back on the table since: a trigger disabled for a while, a table replaced)';
  const what =
    when === 'at start'
      ? `the change record no longer reaches back to this cursor ${why}`
      : `while this stream was catching up, the change record dropped changes it still needed ${why}`;
  return new GraphQLError(`${argument}: ${what}; ${RECOVER_HINT}`, { extensions: { code: CURSOR_EXPIRED, argument } });
}

export function cursorRefused(argument: string): GraphQLError {
  return new UserInputError(
    argument,
    `is not a valid stream cursor (the database cannot read its position); ${RECOVER_HINT}`,
  );
}

export function feedFellBehind(): GraphQLError {
  return new GraphQLError(
    'this gateway fell behind the change record by more than LIVE_CHANGE_RETENTION_SECONDS (the shortest among ' +
      'gateways sharing GATEWAY_SCHEMA), and changes this stream had not delivered were dropped; ' +
      RECOVER_HINT,
    { extensions: { code: CURSOR_EXPIRED } },
  );
}

export function captureLost(): GraphQLError {
  return new GraphQLError(
    'the synced table was replaced, or its change capture was dropped or disabled for a while: the changes in ' +
      `between are unknown, so this stream cannot continue exactly; ${RECOVER_HINT}`,
    { extensions: { code: CURSOR_EXPIRED } },
  );
}
