/**
 * A pg Client that obtains the Lakebase credential before it opens a socket.
 *
 * pg calls an async `password` function only after the server has asked for
 * the password, and when that function fails pg reports the error but leaves
 * the socket open: the server keeps the half-authenticated backend until its
 * authentication_timeout (60 s by default). During a credential-API outage
 * every connection attempt would then hold a server slot for a minute. With
 * this class (pg.Pool's `Client` option) a failed credential means no
 * connection at all; the password function then answers from the cache.
 */
import pg from 'pg';

type ConnectCallback = ((err: Error) => void) | ((err: null, client: pg.Client) => void);

export interface TokenSource {
  token(): Promise<string>;
}

export function credentialFirstClient(tokens: TokenSource): typeof pg.Client {
  return class CredentialFirstClient extends pg.Client {
    override connect(): Promise<pg.Client>;
    override connect(callback: ConnectCallback): void;
    override connect(callback?: ConnectCallback): Promise<pg.Client> | void {
      const ready = tokens.token();
      if (callback === undefined) return ready.then(() => super.connect());
      ready.then(
        () => super.connect(callback),
        (error: Error) => (callback as (err: Error) => void)(error),
      );
    }
  };
}
