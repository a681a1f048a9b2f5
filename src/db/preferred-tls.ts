import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import type { DatabaseConfig } from '../config/env.js';
import type { Logger } from '../logger.js';
import { offersTls } from './ssl-preference.js';
import { pgSslOption } from './ssl.js';

type ConnectCallback = ((err: Error) => void) | ((err: null, client: pg.Client) => void);

/** What each server answered to an SSLRequest, once it answered: asked again until then, never after. */
const answered = new Map<string, 'require' | 'disable'>();

async function preferredMode(
  config: Pick<DatabaseConfig, 'host' | 'port'>,
  logger: Pick<Logger, 'info'>,
  timeoutMs: number,
): Promise<'require' | 'disable'> {
  const where = `${config.host}:${config.port}`;
  const known = answered.get(where);
  if (known) return known;
  const mode = (await offersTls(config.host, config.port, timeoutMs)) ? 'require' : 'disable';
  if (!answered.has(where)) {
    answered.set(where, mode);
    logger.info(
      mode === 'require'
        ? 'PGSSLMODE=prefer: the server answered at last and offers TLS; connections are encrypted'
        : 'PGSSLMODE=prefer: the server answered at last and offers no TLS; connections are not encrypted',
      { server: where },
    );
  }
  return mode;
}

/**
 * The Client class for `config`. While PGSSLMODE=prefer is unsettled (its startup probe got no answer: the
 * database was still starting), one that asks the server again before it connects, until a server answers,
 * as libpq's prefer decides per connection. Settling once at startup either way failed: in the clear, a server
 * that requires TLS refused every later login, and every password went in the clear to one that offers it;
 * insisting on TLS, a server without it was never reached.
 */
export function clientClassFor(
  config: DatabaseConfig,
  logger: Pick<Logger, 'info'>,
  Base: typeof pg.Client = pg.Client,
  probeTimeoutMs = 5_000,
): typeof pg.Client {
  if (config.sslMode !== 'prefer' || config.host.startsWith('/')) return Base;
  return class PreferringClient extends Base {
    override connect(): Promise<pg.Client>;
    override connect(callback: ConnectCallback): void;
    override connect(callback?: ConnectCallback): Promise<pg.Client> | void {
      const connecting = preferredMode(config, logger, probeTimeoutMs).then((sslMode) => {
        const ssl: false | ConnectionOptions = pgSslOption({ ...config, sslMode });
        // pg reads these when it connects: the Client's copy (cancel requests use it) and its Connection's.
        const self = this as unknown as {
          ssl: false | ConnectionOptions;
          connection: { ssl: false | ConnectionOptions };
        };
        self.ssl = ssl;
        self.connection.ssl = ssl;
        return super.connect();
      });
      if (callback === undefined) return connecting;
      connecting.then(
        (client) => (callback as (err: null, client: pg.Client) => void)(null, client),
        (error: Error) => (callback as (err: Error) => void)(error),
      );
    }
  };
}
