/**
 * The pg Client for Lakebase OAuth connections (pg.Pool's `Client` option).
 *
 * It obtains the credential before opening a socket. pg calls an async
 * `password` function only after the server has asked for the password, and
 * when that function fails pg reports the error but leaves the socket open:
 * the server keeps the half-authenticated backend until its
 * authentication_timeout (60 s by default), so during a credential-API outage
 * every attempt would hold a server slot for a minute. Here a failed
 * credential means no connection at all, and the password function then
 * answers from the cache.
 *
 * It also explains failed connections (LakebaseConnectionError with the step
 * at fault), so the pool's callers, logs and /ready say what to fix.
 *
 * The credential counts against the connection's time (the pool's
 * connectionTimeoutMillis, PG_POOL_WAIT_MS): a slow or throttled credential API
 * (the SDK retries a 429 for up to a minute) used to hold each request for that
 * long, and the pool's timeout then blamed the Postgres connection.
 */
import pg from 'pg';
import { withTimeout } from '../with-timeout.js';
import { LakebaseConnectionError } from './errors.js';
import { explainConnectionError } from './postgres-errors.js';

type ConnectCallback = ((err: Error) => void) | ((err: null, client: pg.Client) => void);

export interface TokenSource {
  token(): Promise<string>;
}

export function credentialFirstClient(tokens: TokenSource, sslMode: string): typeof pg.Client {
  return class CredentialFirstClient extends pg.Client {
    readonly #waitMs: number;

    constructor(config?: string | pg.ClientConfig) {
      super(config);
      this.#waitMs = typeof config === 'object' ? (config.connectionTimeoutMillis ?? 0) : 0;
    }

    override connect(): Promise<pg.Client>;
    override connect(callback: ConnectCallback): void;
    override connect(callback?: ConnectCallback): Promise<pg.Client> | void {
      const started = Date.now();
      let credentialMs: number | undefined;
      const connecting = credentialWithin(tokens, this.#waitMs)
        .then(() => {
          credentialMs = Date.now() - started;
          return super.connect();
        })
        .catch((error: unknown) => {
          // The pool's timeout ended a connection the credential had left too little time: its step is at fault.
          const ranOut = this.#waitMs > 0 && Date.now() - started >= this.#waitMs;
          if (ranOut && credentialMs !== undefined && credentialMs >= this.#waitMs / 2) {
            throw slowCredential(`took ${credentialMs} ms of the ${this.#waitMs} ms`, { cause: error });
          }
          throw explainConnectionError(error, {
            host: this.host,
            port: this.port,
            user: this.user ?? '',
            database: this.database ?? '',
            passwordSource: 'oauth',
            sslMode,
          });
        });
      if (callback === undefined) return connecting;
      connecting.then(
        (client) => (callback as (err: null, client: pg.Client) => void)(null, client),
        (error: Error) => (callback as (err: Error) => void)(error),
      );
    }
  };
}

function slowCredential(what: string, options?: { cause?: unknown }): LakebaseConnectionError {
  return new LakebaseConnectionError(
    'credential-api',
    `the Lakebase credential ${what} PG_POOL_WAIT_MS allows a new connection: the credential API is slow or ` +
      'rate-limiting (the renewal goes on, and later connections use it)',
    undefined,
    options,
  );
}

/**
 * The credential, or a credential-api error once nine tenths of `waitMs` (0: no limit) have passed without it:
 * before the pool's own timeout, which would report its own words instead, and leaving a moment to connect.
 */
function credentialWithin(tokens: TokenSource, waitMs: number): Promise<string> {
  if (waitMs <= 0) return tokens.token();
  const deadlineMs = Math.floor(waitMs * 0.9);
  return withTimeout(tokens.token(), deadlineMs, () =>
    slowCredential(`did not come within ${deadlineMs} ms of the ${waitMs} ms`),
  );
}
