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
 */
import pg from 'pg';
import { explainConnectionError } from './postgres-errors.js';

type ConnectCallback = ((err: Error) => void) | ((err: null, client: pg.Client) => void);

export interface TokenSource {
  token(): Promise<string>;
}

export function credentialFirstClient(tokens: TokenSource, sslMode: string): typeof pg.Client {
  return class CredentialFirstClient extends pg.Client {
    override connect(): Promise<pg.Client>;
    override connect(callback: ConnectCallback): void;
    override connect(callback?: ConnectCallback): Promise<pg.Client> | void {
      const connecting = tokens
        .token()
        .then(() => super.connect())
        .catch((error: unknown) => {
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
