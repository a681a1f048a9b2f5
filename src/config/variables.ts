import { z } from 'zod';
import { LOG_LEVELS } from '../logger.js';

/**
 * Every environment variable the gateway (and its development tools) reads,
 * described once: its type and bounds (a zod schema), its default, what it
 * means, and whether it is for local development only. The loaders in this
 * folder read variables only through `read`, so an undeclared one cannot be
 * read; `npm run config:docs` writes the README's table from this list, and
 * `npm run config:check` (run by .ci/run) fails when that table is stale.
 *
 * Rules that involve more than one variable (DATABASE_URL versus the PG*
 * variables, a default page size above the maximum, both OAuth halves) stay in
 * the loaders, which name the variable at fault the same way.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** A variable that cannot be used as given; `variable` names it, and the message starts with it. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${variable}: ${message}`, options);
    this.name = 'ConfigError';
  }
}

export const VARIABLE_GROUPS = [
  'Server',
  'Database',
  'Limits',
  'Live subscriptions',
  'Rollups',
  'Response cache',
  'Fast paths',
  'Edge',
  'Observability',
  'Databricks',
  'Development',
] as const;
export type VariableGroup = (typeof VARIABLE_GROUPS)[number];

/** A value as the environment holds it: absent and blank are the same, surrounding spaces are dropped. */
type Raw = string | undefined;

export interface Variable<T> {
  group: VariableGroup;
  /** One line for the README table. */
  meaning: string;
  /** The default as the README shows it; `–` when there is none. */
  shownDefault: string;
  /** Read only by local development (the embedded database, the emulated pipeline, `npm run data`). */
  devOnly?: boolean;
  schema: z.ZodType<T, Raw>;
}

const blankToUndefined = (value: unknown) =>
  typeof value === 'string' ? (value.trim() === '' ? undefined : value.trim()) : value;

function integer(min: number, max: number) {
  return z
    .string()
    .regex(/^-?\d+$/, { error: (issue) => `expected an integer, got "${String(issue.input)}"` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: (issue) => `must be between ${min} and ${max}, got ${String(issue.input)}` })
        .max(max, { error: (issue) => `must be between ${min} and ${max}, got ${String(issue.input)}` }),
    );
}

/** An integer within [min, max]; `fallback` when unset. */
function int(
  meta: Omit<Variable<number>, 'schema' | 'shownDefault'>,
  fallback: number,
  min: number,
  max: number,
): Variable<number> {
  return {
    ...meta,
    shownDefault: String(fallback),
    schema: z.preprocess(blankToUndefined, integer(min, max).default(fallback)) as z.ZodType<number, Raw>,
  };
}

/** An integer within [min, max] whose default the loader derives from other variables (`shownDefault` says how). */
function derivedInt(
  meta: Omit<Variable<number | undefined>, 'schema'>,
  min: number,
  max: number,
): Variable<number | undefined> {
  return {
    ...meta,
    schema: z.preprocess(blankToUndefined, integer(min, max).optional()) as z.ZodType<number | undefined, Raw>,
  };
}

/** One of `values`, compared case-insensitively; `fallback` when unset. */
function oneOf<const T extends string>(
  meta: Omit<Variable<T>, 'schema' | 'shownDefault'>,
  values: readonly [T, ...T[]],
  fallback: T,
  caseOf: (raw: string) => string = (raw) => raw.toLowerCase(),
): Variable<T> {
  const allowed = z.enum(values, {
    error: (issue) => `expected one of ${values.join(', ')}, got "${String(issue.input)}"`,
  });
  return {
    ...meta,
    shownDefault: `\`${fallback}\``,
    schema: z.preprocess(
      (value) => {
        const blank = blankToUndefined(value);
        return typeof blank === 'string' ? caseOf(blank) : blank;
      },
      allowed.default(fallback as never),
    ) as unknown as z.ZodType<T, Raw>,
  };
}

/** `on` or `off`, as a boolean. */
function onOff(meta: Omit<Variable<boolean>, 'schema' | 'shownDefault'>, fallback: boolean): Variable<boolean> {
  const variable = oneOf(meta, ['on', 'off'], fallback ? 'on' : 'off');
  return { ...variable, schema: variable.schema.transform((value) => value === 'on') };
}

/** `true` or `false`, as a boolean; undefined when unset (the loader decides). */
function optionalBoolean(meta: Omit<Variable<boolean | undefined>, 'schema'>): Variable<boolean | undefined> {
  return {
    ...meta,
    schema: z.preprocess(
      blankToUndefined,
      z
        .string()
        .regex(/^(true|false)$/i, { error: (issue) => `expected true or false, got "${String(issue.input)}"` })
        .transform((value) => value.toLowerCase() === 'true')
        .optional(),
    ) as z.ZodType<boolean | undefined, Raw>,
  };
}

const FLAG_WORDS: Readonly<Record<string, boolean>> = {
  true: true,
  on: true,
  yes: true,
  1: true,
  false: false,
  off: false,
  no: false,
  0: false,
};

/** `true`/`false` (also `on`/`off`, `yes`/`no`, `1`/`0`), as a boolean; undefined when unset (the loader decides). */
function optionalFlag(meta: Omit<Variable<boolean | undefined>, 'schema'>): Variable<boolean | undefined> {
  return {
    ...meta,
    schema: z.preprocess(
      blankToUndefined,
      z
        .string()
        .refine((value) => value.toLowerCase() in FLAG_WORDS, {
          error: (issue) => `expected true or false, got "${String(issue.input)}"`,
        })
        .transform((value) => FLAG_WORDS[value.toLowerCase()] === true)
        .optional(),
    ) as z.ZodType<boolean | undefined, Raw>,
  };
}

/** The same with a fixed default. */
function flag(meta: Omit<Variable<boolean>, 'schema' | 'shownDefault'>, fallback: boolean): Variable<boolean> {
  const variable = optionalFlag({ ...meta, shownDefault: `\`${String(fallback)}\`` });
  return { ...variable, schema: variable.schema.transform((value) => value ?? fallback) } as Variable<boolean>;
}

/** Free text (trimmed); undefined when unset. Anything more is checked by the loader that knows the format. */
function text(
  meta: Omit<Variable<string | undefined>, 'schema' | 'shownDefault'>,
  shownDefault = '–',
): Variable<string | undefined> {
  return {
    ...meta,
    shownDefault,
    schema: z.preprocess(blankToUndefined, z.string().optional()) as z.ZodType<string | undefined, Raw>,
  };
}

/** Text with a default, refused with `problem`'s sentence when that finds one. */
function checkedText(
  meta: Omit<Variable<string>, 'schema' | 'shownDefault'>,
  fallback: string,
  problem: (value: string) => string | undefined,
): Variable<string> {
  return {
    ...meta,
    shownDefault: `\`${fallback}\``,
    schema: z.preprocess(
      blankToUndefined,
      z
        .string()
        .refine((value) => problem(value) === undefined, { error: (issue) => problem(String(issue.input)) ?? '' })
        .default(fallback),
    ) as z.ZodType<string, Raw>,
  };
}

/** A Postgres name (schema, table, channel): always quoted in SQL, so this only refuses certain typos. */
function identifier(meta: Omit<Variable<string>, 'schema' | 'shownDefault'>, fallback: string): Variable<string> {
  return checkedText(meta, fallback, (value) =>
    value.length <= 63 && !/["\0]/.test(value) ? undefined : `"${value}" is not a valid Postgres identifier`,
  );
}

/**
 * What a connection's `application_name` may be: Postgres replaces anything but printable ASCII with `?` and cuts
 * the name at 63 bytes, and the gateway appends up to 15 characters of its own (` response cache`), so longer or
 * other names would show in pg_stat_activity as something the operator did not set.
 */
export const APPLICATION_NAME_MAX = 48;
export function applicationNameProblem(value: string): string | undefined {
  if (!/^[\x20-\x7e]*$/.test(value)) return `"${value}" holds characters other than printable ASCII`;
  if (value.length > APPLICATION_NAME_MAX)
    return `is ${value.length} characters long, at most ${APPLICATION_NAME_MAX} are allowed`;
  return undefined;
}

function applicationName(meta: Omit<Variable<string>, 'schema' | 'shownDefault'>, fallback: string): Variable<string> {
  return checkedText(meta, fallback, applicationNameProblem);
}

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];
export const ROLLUP_FRESHNESS = ['trigger', 'statistics'] as const;
export type RollupFreshness = (typeof ROLLUP_FRESHNESS)[number];
/** The identity headers the Databricks Apps proxy sets on every request it forwards. */
export const IDENTITY_HEADERS = ['x-forwarded-email', 'x-forwarded-user', 'x-forwarded-preferred-username'] as const;
export const SYNCED_TABLE_APIS = ['postgres', 'database'] as const;
export const SCHEDULING_POLICIES = ['SNAPSHOT', 'TRIGGERED', 'CONTINUOUS'] as const;
/** The channel the sync pipeline notifies after each sync (src/sync/sync-notification.ts sends on it). */
export const DEFAULT_NOTIFY_CHANNEL = 'lakebase_graphql_sync';

export const VARIABLES = {
  // Server
  NODE_ENV: text({
    group: 'Server',
    meaning: '`production` refuses the embedded database (as `DATABRICKS_APP_NAME` does)',
  }),
  DATABRICKS_APP_NAME: text({
    group: 'Server',
    meaning: 'set by Databricks Apps: production; forwarded identity headers are trusted',
  }),
  DATABRICKS_APP_PORT: derivedInt(
    { group: 'Server', meaning: 'HTTP port (set by Databricks Apps); wins over `PORT`', shownDefault: '–' },
    0,
    65535,
  ),
  PORT: int({ group: 'Server', meaning: 'HTTP port when `DATABRICKS_APP_PORT` is unset' }, 8000, 0, 65535),
  HOST: text({ group: 'Server', meaning: 'address to bind' }, '`0.0.0.0`'),
  LOG_LEVEL: oneOf(
    { group: 'Server', meaning: '`debug`, `info`, `warn`, `error`; logs are JSON lines' },
    LOG_LEVELS,
    'info',
  ),

  // Database
  DATABASE_URL: text({
    group: 'Database',
    meaning:
      'Postgres connection (`postgres://user:password@host:port/db?sslmode=require`), instead of the `PG*` variables',
  }),
  PGHOST: text({ group: 'Database', meaning: 'Postgres host, as Databricks Apps supplies it for a database resource' }),
  PGPORT: int({ group: 'Database', meaning: 'Postgres port' }, 5432, 1, 65535),
  PGDATABASE: text({ group: 'Database', meaning: 'database name' }, '`databricks_postgres`'),
  PGUSER: text({ group: 'Database', meaning: 'user (required with `PGHOST`)' }),
  PGPASSWORD: text({ group: 'Database', meaning: 'static password; unset with `PGHOST`: Lakebase OAuth tokens' }),
  PGSSLMODE: oneOf(
    {
      group: 'Database',
      meaning:
        'SSL mode (`sslmode` in `DATABASE_URL` wins); `prefer`: TLS if offered (asked at startup); on Lakebase `require`/`prefer` verify the certificate',
    },
    SSL_MODES,
    'prefer',
  ),
  PGSSLROOTCERT: text({
    group: 'Database',
    meaning:
      "PEM file of the CAs the server's certificate must chain to (`require` then verifies, as libpq's; `system`: Node's store, verify-full)",
  }),
  PGAPPNAME: applicationName(
    {
      group: 'Database',
      meaning:
        "`application_name` of the connections (Databricks Apps sets the app's name; `DATABASE_URL`'s wins); LISTEN's adds `-listen`",
    },
    'lakebase-graphql',
  ),
  PGSCHEMA: identifier({ group: 'Database', meaning: 'schema of the synced table' }, 'default'),
  TRIPS_TABLE: identifier({ group: 'Database', meaning: 'name of the synced table' }, 'trips_synced'),
  GATEWAY_SCHEMA: identifier(
    { group: 'Database', meaning: 'schema the gateway owns (ZIP reference table, rollups)' },
    'lakebase_graphql',
  ),
  PG_POOL_MAX: int({ group: 'Database', meaning: 'connections per process' }, 10, 1, 1000),
  PG_POOL_WAIT_MS: int(
    {
      group: 'Database',
      meaning:
        "how long a query waits for a free pooled connection (then `DATABASE_BUSY`); a new Lakebase connection's OAuth credential counts against it",
    },
    10_000,
    50,
    600_000,
  ),
  PG_MAX_LIFETIME_SECONDS: int(
    { group: 'Database', meaning: 'retire connections before a one-hour OAuth token expires' },
    45 * 60,
    10,
    24 * 3600,
  ),
  DB_IDLE_AFTER_MS: derivedInt(
    {
      group: 'Database',
      meaning:
        'no request or subscriber for this long: background queries pause, so a scale-to-zero compute can suspend (0 = never)',
      shownDefault: '120000 on Lakebase Autoscaling, else 0',
    },
    0,
    86_400_000,
  ),
  PG_STATEMENT_TIMEOUT_MS: int(
    {
      group: 'Database',
      meaning:
        'per-statement timeout (0 = none); a statement still unanswered 5 s past it is taken for a stalled server: its connection is closed',
    },
    30_000,
    0,
    3_600_000,
  ),

  // Limits
  MAX_PAGE_SIZE: int({ group: 'Limits', meaning: 'cap for `trips(first/last)`' }, 1000, 1, 100_000),
  DEFAULT_PAGE_SIZE: derivedInt(
    {
      group: 'Limits',
      meaning: 'page size when `first`/`last` is omitted; at most `MAX_PAGE_SIZE`',
      shownDefault: 'min(100, `MAX_PAGE_SIZE`)',
    },
    1,
    100_000,
  ),
  MAX_GROUPS: int(
    { group: 'Limits', meaning: 'cap for `tripGroups(first)` and for the groups a time bucketing may produce' },
    10_000,
    1,
    1_000_000,
  ),
  MAX_QUERY_DEPTH: int({ group: 'Limits', meaning: 'deepest selection a query may have' }, 10, 2, 100),
  MAX_ALIASES: int({ group: 'Limits', meaning: 'most aliases in one query' }, 250, 1, 10_000),
  MAX_QUERY_COST: derivedInt(
    {
      group: 'Limits',
      meaning:
        'one point per field per object (a page of 100 trips with 5 fields: 701); the default admits one full-size `tripGroups` answer',
      shownDefault: 'max(50000, 30 × `MAX_GROUPS`)',
    },
    10,
    100_000_000,
  ),

  // Live subscriptions
  LIVE_POLL_INTERVAL_MS: int(
    {
      group: 'Live subscriptions',
      meaning: 'feed tick while anyone is subscribed; NOTIFY and sync status changes wake it sooner',
    },
    1000,
    10,
    3_600_000,
  ),
  LIVE_NOTIFIED_POLL_INTERVAL_MS: int(
    {
      group: 'Live subscriptions',
      meaning:
        'safety-net tick while NOTIFY wakes the feed at every commit (exact capture, LISTEN up); `LIVE_POLL_INTERVAL_MS` again while LISTEN is down',
    },
    60_000,
    10,
    3_600_000,
  ),
  LIVE_NOTIFY_CHANNEL: {
    group: 'Live subscriptions',
    meaning: 'Postgres channel the sync pipeline notifies after each sync; `off`: polling only',
    shownDefault: `\`${DEFAULT_NOTIFY_CHANNEL}\``,
    schema: z.preprocess(
      blankToUndefined,
      z
        .string()
        .refine((value) => value.length <= 63 && !/["\0]/.test(value), {
          error: (issue) => `"${String(issue.input)}" is not a valid Postgres channel name (or "off")`,
        })
        .transform((value): string | null => (value.toLowerCase() === 'off' ? null : value))
        .default(DEFAULT_NOTIFY_CHANNEL),
    ) as z.ZodType<string | null, Raw>,
  } satisfies Variable<string | null>,
  LIVE_FEED_BATCH_ROWS: int(
    {
      group: 'Live subscriptions',
      meaning: 'rows per feed statement (and catch-up page); the feed loops while pages come back full',
    },
    1000,
    1,
    100_000,
  ),
  LIVE_SUBSCRIBER_BUFFER_ROWS: int(
    {
      group: 'Live subscriptions',
      meaning: 'rows a subscriber may have queued before it is cut off as too slow (it resumes from its cursor)',
    },
    10_000,
    1,
    10_000_000,
  ),
  LIVE_EVENT_MAX_ROWS: int(
    { group: 'Live subscriptions', meaning: 'most trips in one `TripBatch` event; a longer queue is sent as several' },
    500,
    1,
    100_000,
  ),
  LIVE_KEEPALIVE_MS: int(
    { group: 'Live subscriptions', meaning: 'interval of `:` keep-alive comments on idle event streams' },
    12_000,
    50,
    600_000,
  ),
  LIVE_MAX_SUBSCRIBERS: int(
    {
      group: 'Live subscriptions',
      meaning: 'concurrent live subscriptions per process; more are refused with a clear error',
    },
    20_000,
    1,
    1_000_000,
  ),

  LIVE_LISTEN_HOST: text(
    {
      group: 'Live subscriptions',
      meaning:
        "host[:port] for the LISTEN connection only: the endpoint's direct host when `PGHOST` is a pooled one (which cannot carry LISTEN)",
    },
    '`PGHOST`',
  ),

  LIVE_CHANGE_CAPTURE: oneOf(
    {
      group: 'Live subscriptions',
      meaning:
        '`auto`: install the exact change capture when the role may (else the key high-water mark, with a warning); `off`: always the high-water mark',
    },
    ['auto', 'off'],
    'auto',
  ),
  LIVE_CHANGE_RETENTION_SECONDS: int(
    {
      group: 'Live subscriptions',
      meaning: 'how long the change record keeps changes; older stream cursors get `CURSOR_EXPIRED`',
    },
    7 * 24 * 3600,
    1,
    366 * 24 * 3600,
  ),

  // Rollups
  ROLLUPS: onOff(
    {
      group: 'Rollups',
      meaning: 'aggregate rollups in the gateway schema; `off` answers every aggregate from the synced table',
    },
    true,
  ),
  ROLLUP_POLL_MS: int(
    { group: 'Rollups', meaning: "how often a rollup's signature is compared with the synced table's (0 = never)" },
    10_000,
    0,
    3_600_000,
  ),
  ROLLUP_FRESHNESS: oneOf(
    {
      group: 'Rollups',
      meaning:
        'how a rollup is proven fresh: `trigger` (exact; statement triggers on the synced table) or `statistics` (no DDL there)',
    },
    ROLLUP_FRESHNESS,
    'trigger',
  ),

  // Response cache (docs/response-cache.md)
  RESPONSE_CACHE: onOff(
    {
      group: 'Response cache',
      meaning:
        'query answers cached until the synced table changes (keyed on its change signal); `off`: every query reads the database',
    },
    true,
  ),
  RESPONSE_CACHE_MAX_BYTES: int(
    {
      group: 'Response cache',
      meaning: "the cache's bound (serialized answers plus keys); least recently used go first",
    },
    64 * 1024 * 1024,
    0,
    2 ** 40,
  ),

  // Fast paths (src/server/fast-paths/README.md)
  GRAPHQL_JIT: onOff(
    { group: 'Fast paths', meaning: 'queries run as code compiled by graphql-jit; `off`: graphql-js' },
    true,
  ),
  SSE_DIRECT_WRITES: onOff(
    {
      group: 'Fast paths',
      meaning: 'shared subscription events written straight to sockets; `off`: through the response stream',
    },
    true,
  ),

  // Edge (docs/edge.md)
  MAX_REQUEST_BODY_BYTES: int(
    { group: 'Edge', meaning: 'largest request body accepted (413 beyond)' },
    256 * 1024,
    1024,
    100_000_000,
  ),
  MAX_TOKENS: int({ group: 'Edge', meaning: 'lexical tokens per GraphQL document' }, 10_000, 50, 1_000_000),
  MAX_DIRECTIVES: int({ group: 'Edge', meaning: 'directives per GraphQL document' }, 50, 1, 10_000),
  MAX_LIST_ITEMS: int(
    { group: 'Edge', meaning: 'items in any list argument or list variable (e.g. `nodes(ids:)`)' },
    1000,
    1,
    1_000_000,
  ),
  MAX_ERROR_MESSAGE_CHARS: int(
    { group: 'Edge', meaning: 'longest error message sent to a client; longer ones are cut' },
    1000,
    100,
    1_000_000,
  ),
  DOCUMENT_CACHE_BYTES: int(
    { group: 'Edge', meaning: 'memory budget of the parse/validation cache (estimated from source size)' },
    32 * 1024 * 1024,
    0,
    10_000_000_000,
  ),
  HTTP_REQUEST_TIMEOUT_MS: int(
    { group: 'Edge', meaning: 'time a client may take to send a whole request (408 beyond; event streams unaffected)' },
    30_000,
    100,
    3_600_000,
  ),
  HTTP_HEADERS_TIMEOUT_MS: int(
    { group: 'Edge', meaning: 'time a client may take to send its headers' },
    10_000,
    100,
    3_600_000,
  ),
  SHUTDOWN_GRACE_MS: int(
    {
      group: 'Edge',
      meaning: 'on SIGTERM, how long running requests may finish before their connections are cut (Apps kills at 15 s)',
    },
    10_000,
    0,
    600_000,
  ),
  CORS_ORIGINS: text(
    {
      group: 'Edge',
      meaning:
        'comma-separated origins allowed to call from a browser (with credentials), or `*` (any origin, never with credentials)',
    },
    '– (same origin only)',
  ),
  GRAPHQL_INTROSPECTION: flag(
    { group: 'Edge', meaning: 'introspection queries; a locked-down production sets `false`' },
    true,
  ),
  GRAPHIQL: flag({ group: 'Edge', meaning: 'GraphiQL on `GET /graphql` from a browser' }, true),
  PERSISTED_OPERATIONS: oneOf(
    {
      group: 'Edge',
      meaning:
        "`allow`: manifest operations by `documentId` plus any document; `only`: nothing but the manifest's operations",
    },
    ['off', 'allow', 'only'],
    'off',
  ),
  PERSISTED_OPERATIONS_MANIFEST: text(
    { group: 'Edge', meaning: 'the persisted operations manifest (hash → document)' },
    '`web/src/gql/persisted-documents.json`',
  ),
  RATE_LIMIT_REQUESTS: int(
    {
      group: 'Edge',
      meaning:
        'requests per window per client (the user the trusted proxy names, else the address); 429 with `Retry-After` beyond; 0 = off',
    },
    0,
    0,
    100_000_000,
  ),
  RATE_LIMIT_WINDOW_MS: int({ group: 'Edge', meaning: 'the rate limit window' }, 60_000, 100, 86_400_000),
  MAX_SUBSCRIPTIONS_PER_CLIENT: int(
    { group: 'Edge', meaning: 'concurrent subscriptions per client (`TOO_MANY_SUBSCRIPTIONS` beyond)' },
    100,
    1,
    1_000_000,
  ),
  MAX_STREAMS_PER_CLIENT: int(
    {
      group: 'Edge',
      meaning:
        '`/graphql/stream` reservations (graphql-sse single connection mode) per client, opened or not (429 `TOO_MANY_STREAMS` beyond)',
    },
    100,
    1,
    1_000_000,
  ),
  STREAM_RESERVATION_TTL_MS: int(
    { group: 'Edge', meaning: 'unopened `/graphql/stream` reservations are dropped after this' },
    30_000,
    100,
    3_600_000,
  ),
  TRUST_PROXY: optionalFlag({
    group: 'Edge',
    meaning:
      'behind a proxy that authenticates callers (Databricks Apps): per-client limits key on its `X-Forwarded-User`, else `X-Real-Ip`',
    shownDefault: '`true` in production',
  }),

  // Observability
  ACCESS_LOG: flag(
    {
      group: 'Observability',
      meaning:
        'one JSON line per request (request id, operation, status, duration), at `info`: `LOG_LEVEL=warn` or `error` leaves it out',
    },
    true,
  ),
  METRICS: flag({ group: 'Observability', meaning: 'Prometheus metrics on `/metrics`' }, true),
  OTEL_EXPORTER_OTLP_ENDPOINT: text({
    group: 'Observability',
    meaning: 'OpenTelemetry traces to this http(s) URL when set: a span per operation, SQL statements as its children',
  }),
  OTEL_EXPORTER_OTLP_PROTOCOL: text(
    {
      group: 'Observability',
      meaning: '`grpc` (as Databricks Apps telemetry sets it), `http/protobuf` or `http/json`',
    },
    '`http/protobuf`',
  ),
  OTEL_SERVICE_NAME: text({ group: 'Observability', meaning: 'service name on the traces' }, '`lakebase-graphql`'),

  // Databricks
  DATABRICKS_HOST: text({ group: 'Databricks', meaning: 'workspace URL (`https://` is assumed for a bare host name)' }),
  DATABRICKS_CLIENT_ID: text({
    group: 'Databricks',
    meaning: 'OAuth M2M client of the service principal (set by Databricks Apps); with the secret',
  }),
  DATABRICKS_CLIENT_SECRET: text({ group: 'Databricks', meaning: 'its secret; both or neither' }),
  DATABRICKS_CONFIG_PROFILE: text({ group: 'Databricks', meaning: 'a `~/.databrickscfg` profile for local runs' }),
  DATABRICKS_PROFILE: text({
    group: 'Databricks',
    meaning: 'the same, as the reference app names it; must agree with `DATABRICKS_CONFIG_PROFILE`',
  }),
  LAKEBASE_INSTANCE_NAME: text(
    { group: 'Databricks', meaning: 'Lakebase Provisioned instance to request credentials for' },
    'from the synced table',
  ),
  LAKEBASE_ENDPOINT: text(
    {
      group: 'Databricks',
      meaning: 'instead, a Lakebase Autoscaling endpoint, `projects/<p>/branches/<b>/endpoints/<e>`',
    },
    'from the synced table',
  ),
  SYNCED_TABLE_NAME: text({
    group: 'Databricks',
    meaning:
      'Unity Catalog name of the synced table (`main.default.trips_synced`); enables `syncStatus` against Databricks',
  }),
  SYNCED_TABLE_API: {
    group: 'Databricks',
    meaning:
      '`postgres` (Lakebase Autoscaling) or `database` (Provisioned) synced-table API; a 404 tries the other once',
    shownDefault: '`database` with `LAKEBASE_INSTANCE_NAME`, else `postgres`',
    schema: z.preprocess(
      (value) => {
        const blank = blankToUndefined(value);
        return typeof blank === 'string' ? blank.toLowerCase() : blank;
      },
      z
        .enum(SYNCED_TABLE_APIS, {
          error: (issue) =>
            `expected postgres (Lakebase Autoscaling) or database (Lakebase Provisioned), got "${String(issue.input)}"`,
        })
        .optional(),
    ) as z.ZodType<(typeof SYNCED_TABLE_APIS)[number] | undefined, Raw>,
  } satisfies Variable<(typeof SYNCED_TABLE_APIS)[number] | undefined>,
  GATEWAY_ADMIN_IDENTITY_HEADER: {
    group: 'Databricks',
    meaning: 'the one forwarded identity header (always overwritten by the Apps proxy) that admin decisions rest on',
    shownDefault: '`x-forwarded-email`',
    schema: z.preprocess(
      (value) => {
        const blank = blankToUndefined(value);
        return typeof blank === 'string' ? blank.toLowerCase() : blank;
      },
      z
        .enum(IDENTITY_HEADERS, {
          error: () => `expected one of ${IDENTITY_HEADERS.join(', ')} (the headers the Databricks Apps proxy sets)`,
        })
        .default('x-forwarded-email'),
    ) as z.ZodType<(typeof IDENTITY_HEADERS)[number], Raw>,
  } satisfies Variable<(typeof IDENTITY_HEADERS)[number]>,
  SYNC_STATUS_CACHE_SECONDS: int(
    { group: 'Databricks', meaning: 'how long a sync status read is reused (0 = every request)' },
    5,
    0,
    3600,
  ),
  GATEWAY_ADMIN_TOKEN: text({
    group: 'Databricks',
    meaning:
      'secret (≥ 16 characters) in `X-Admin-Token` (or `Authorization: Bearer`, off Databricks Apps) that may call `refreshSyncedTable`',
  }),
  GATEWAY_ADMINS: text({
    group: 'Databricks',
    meaning: 'comma-separated e-mails / user ids that may call `refreshSyncedTable`',
  }),
  GATEWAY_TRUST_FORWARDED_IDENTITY: optionalBoolean({
    group: 'Databricks',
    meaning: 'trust `X-Forwarded-Email`/`-User` (the Databricks Apps proxy sets them; elsewhere anyone can)',
    shownDefault: 'true on Databricks Apps, else false',
  }),

  // Development
  EMBEDDED_PG_PORT: int(
    { group: 'Development', meaning: 'port of the embedded database', devOnly: true },
    54329,
    1,
    65535,
  ),
  EMBEDDED_PG_DIR: text(
    {
      group: 'Development',
      meaning: 'data directory of the embedded database (`npm start` and `npm run data`)',
      devOnly: true,
    },
    '`.data/pg`',
  ),
  LOCAL_SYNC_POLICY: oneOf(
    { group: 'Development', meaning: 'scheduling policy of the emulated sync pipeline', devOnly: true },
    SCHEDULING_POLICIES,
    'CONTINUOUS',
    (raw) => raw.toUpperCase(),
  ),
  LOCAL_SYNC_INTERVAL_MS: int(
    { group: 'Development', meaning: 'cadence of the emulated sync pipeline', devOnly: true },
    15_000,
    100,
    3_600_000,
  ),
  LOCAL_SYNC_CHANGE_RETENTION_HOURS: int(
    {
      group: 'Development',
      meaning: 'the emulated source drops change data this old, as Delta does (0 = keep)',
      devOnly: true,
    },
    168,
    0,
    87_600,
  ),
  LAKEBASE_DEV_SOURCE_SCHEMA: text(
    {
      group: 'Development',
      meaning: 'schema of the emulated Unity Catalog source table (`npm run data`)',
      devOnly: true,
    },
    'derived',
  ),
  LAKEBASE_DEV_PIPELINE_SCHEMA: text(
    { group: 'Development', meaning: "schema of the emulated pipeline's state (`npm run data`)", devOnly: true },
    'derived',
  ),
} satisfies Record<string, Variable<unknown>>;

export type VariableName = keyof typeof VARIABLES;
export type VariableValue<Name extends VariableName> = z.output<(typeof VARIABLES)[Name]['schema']>;

/** The value of one declared variable, or a ConfigError naming it. */
export function read<Name extends VariableName>(env: Env, name: Name): VariableValue<Name> {
  const result = (VARIABLES[name].schema as z.ZodType<VariableValue<Name>, Raw>).safeParse(env[name]);
  if (result.success) return result.data;
  throw new ConfigError(name, result.error.issues[0]?.message ?? 'invalid value');
}
