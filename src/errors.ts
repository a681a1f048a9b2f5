import { GraphQLError } from 'graphql';

/**
 * Every `extensions.code` a client can see, in one place (docs/subscriptions.md
 * and the README describe them). Build errors with gatewayError or
 * UserInputError, so a code cannot be misspelt and a new one is listed here.
 */
export const ERROR_CODES = {
  /** An argument is wrong; extensions.argument names it. */
  BAD_USER_INPUT: 'an argument is wrong',
  /** A live-stream cursor can no longer resume (too old, or from another stream). */
  CURSOR_EXPIRED: 'the cursor cannot resume this stream',
  BAD_REQUEST: 'the HTTP request is malformed',
  REQUEST_ENTITY_TOO_LARGE: 'the request body is over the limit',
  QUERY_TOO_COMPLEX: 'the query costs more than MAX_QUERY_COST',
  FORBIDDEN: 'the caller may not do this',
  INTERNAL_SERVER_ERROR: 'unexpected; the log has the details under the request id',
  DATABASE_BUSY: 'every pooled database connection stayed busy while the request waited (PG_POOL_MAX); retry shortly',
  DATABASE_UNAVAILABLE:
    'the database cannot be reached right now (down, restarting, refusing the login); retry shortly',
  STATEMENT_TIMEOUT: 'a statement ran past PG_STATEMENT_TIMEOUT_MS and the database stopped it; ask for less',
  TABLE_MISSING:
    'a table the answer needs does not exist: the synced table before its first sync (see syncStatus), or a dropped GATEWAY_SCHEMA (restart the gateway)',
  SHUTTING_DOWN: 'the gateway is stopping; resume from the cursor',
  TOO_MANY_SUBSCRIBERS: 'LIVE_MAX_SUBSCRIBERS reached',
  SUBSCRIBER_TOO_SLOW: 'the subscriber fell behind its buffer; resume from the cursor',
  CHANGE_CAPTURE_UNAVAILABLE: 'the role may not install the exact change capture; tripChanges is off (see /health)',
  SYNC_NOT_CONFIGURED: 'no sync pipeline is configured',
  SYNC_UNAVAILABLE: 'the sync pipeline API failed',
  SYNC_UPDATE_RUNNING: 'a pipeline update is already running',
  RATE_LIMITED: 'RATE_LIMIT_REQUESTS reached in this window for this client; retry after Retry-After',
  UNSUPPORTED_MEDIA_TYPE: 'the POST body is not application/json (CSRF protection)',
  METHOD_NOT_ALLOWED: 'the GraphQL endpoint answers GET and POST only',
  NOT_ACCEPTABLE: 'no response format the Accept header allows',
  TOO_MANY_SUBSCRIPTIONS: 'MAX_SUBSCRIPTIONS_PER_CLIENT reached for this client',
  TOO_MANY_STREAMS: 'MAX_STREAMS_PER_CLIENT reached for this client: close a /graphql/stream stream first',
  PERSISTED_QUERY_NOT_FOUND: 'the documentId is not in the persisted operations manifest',
  PERSISTED_QUERY_ONLY: 'PERSISTED_OPERATIONS=only: send a documentId, or exactly one of the manifest documents',
  PERSISTED_QUERY_ID_REQUIRED: 'the request carries neither a query nor a documentId',
  PERSISTED_QUERY_NOT_SUPPORTED: 'PERSISTED_OPERATIONS=off: send the query itself (Apollo then does so by itself)',
  /** graphql-js / yoga's codes, kept by the gateway where it rewrites their messages. */
  GRAPHQL_PARSE_FAILED: 'the document is not valid GraphQL syntax',
  GRAPHQL_VALIDATION_FAILED: 'the document does not validate against the schema',
  OPERATION_RESOLUTION_FAILURE:
    'the document holds several operations (or none) and operationName chooses none of them',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A GraphQL error with one of the gateway's codes, `code` first among its extensions. */
export function gatewayError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
  options: { originalError?: Error } = {},
): GraphQLError {
  return new GraphQLError(message, { ...options, extensions: { code, ...extensions } });
}

/**
 * An error the caller can fix. It reaches the client unmasked, with the
 * argument at fault in `extensions.argument` (e.g. "filter.and[1].fareAmount.in").
 */
export class UserInputError extends GraphQLError {
  constructor(argument: string, message: string, code: 'BAD_USER_INPUT' | 'CURSOR_EXPIRED' = 'BAD_USER_INPUT') {
    super(`${argument}: ${message}`, { extensions: { code, argument } });
    this.name = 'UserInputError';
  }
}

/** The message of anything thrown, without assuming it is an Error. */
export function errorMessage(error: unknown): string {
  return redactSecrets(error instanceof Error ? error.message : String(error));
}

/**
 * Secrets a dependency's message may quote: the SDK put a whole token answer (`"access_token":"…"`) into its
 * error when the answer lacked `expires_in`, and that text went to every retry's log line and to the
 * unauthenticated /ready. Every message that reaches a log, /ready or a client passes through errorMessage.
 */
/** Names whose value is a credential, in any casing, also as the end of a longer name (DATABRICKS_TOKEN). */
const SECRET_NAMES = '(?:access_token|refresh_token|id_token|client_secret|secret|(?:pg)?password|token|api[_-]?key)';

const SECRET_PATTERNS: [RegExp, string][] = [
  // JSON fields of token answers and credentials.
  [/("(?:access_token|refresh_token|id_token|client_secret|password|token)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi, '$1"***"'],
  // name=value (forms, query strings, environment dumps), and libpq's name = 'value'. An unquoted value
  // separated by spaces is prose or SQL ("WHERE token = $1"), not a credential.
  [new RegExp(`(?<![A-Za-z])(${SECRET_NAMES}=)[^&\\s"',;]{1,4096}`, 'gi'), '$1***'],
  [new RegExp(`(?<![A-Za-z])(${SECRET_NAMES}\\s*=\\s*)'[^']{0,4096}'`, 'gi'), "$1'***'"],
  [/(?<![A-Za-z])(x-api-key:\s*)\S{1,4096}/gi, '$1***'],
  // Authorization schemes (also %20-encoded, as in OTEL_EXPORTER_OTLP_HEADERS): only what looks like a
  // credential (a digit or one of . _ ~ + / = -, or 16 characters), so that prose such as "Bearer authentication
  // failed" or "an Authorization: Bearer header" stays readable.
  [
    /\b((?:Bearer|Basic)(?:\s+|%20))(?=[A-Za-z0-9._~+/-]{16}|[A-Za-z]{0,64}[0-9._~+/=-])[A-Za-z0-9._~+/-]{8,4096}=*/gi,
    '$1***',
  ],
  // A URL's password (https://user:password@host), the user kept: it is what an operator checks first. User and
  // password as RFC 3986 has them (no / ? # @), every part bounded so that no input is rescanned at length.
  [/\b([a-z][a-z0-9+.-]{0,30}:\/\/[^\s/?#@:]{0,256}:)[^\s/?#@]{0,256}@/gi, '$1***@'],
];

export function redactSecrets(text: string): string {
  let redacted = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) redacted = redacted.replace(pattern, replacement);
  return redacted;
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
