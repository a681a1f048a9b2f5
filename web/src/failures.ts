/**
 * What the page says of a failed request, and whether trying again can help: the table and the charts retry
 * anything but refused input every RETRY_MS, so both come back by themselves after an outage.
 */
import type { CombinedError } from 'urql';

/** How long the page waits before asking again after a failure that a retry may cure (the gateway away). */
export const RETRY_MS = 2000;

/** Errors that the same request gets every time: retrying them only repeats the refusal. */
const FINAL_CODES = new Set(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED', 'QUERY_TOO_COMPLEX', 'FORBIDDEN']);

/** The gateway's own words, with the request id it logged them under; `final` when a retry would be refused too. */
export function describeFailure(error: CombinedError): { message: string; final: boolean } {
  const graphQLErrors = error.graphQLErrors;
  if (graphQLErrors.length === 0) return { message: error.message, final: false };
  const requestId = graphQLErrors.map((e) => e.extensions?.requestId).find((id) => typeof id === 'string');
  const message = graphQLErrors.map((e) => e.message).join('; ');
  return {
    message: requestId === undefined ? message : `${message} (request id ${String(requestId)})`,
    final: graphQLErrors.every((e) => FINAL_CODES.has(String(e.extensions?.code))),
  };
}
