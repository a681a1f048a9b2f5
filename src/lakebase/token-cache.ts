/**
 * Caches the Lakebase OAuth token and hands it to pg as the password of each
 * new connection.
 *
 * Postgres checks the token only at login, and a pooled connection lives up to
 * the pool's maxLifetimeSeconds. So that no connection outlives the token that
 * opened it, a token is handed out only while it stays valid for at least
 * maxLifetimeSeconds plus a margin; after that the next new connection renews
 * it. With one-hour tokens and 45-minute connections a token serves new
 * connections for its first ~14 minutes: a handful of credential calls per
 * hour, and only when connections are opened.
 *
 * Concurrent new connections share one renewal (single flight).
 */
import { createLogger, type Logger } from '../logger.js';
import type { CredentialIssuer } from './credential-issuer.js';

export interface TokenCacheOptions {
  /** The pool's maxLifetimeSeconds (PG_MAX_LIFETIME_SECONDS). */
  maxConnectionLifetimeSeconds: number;
  /** Extra validity required beyond the connection lifetime. Default 60 s. */
  marginSeconds?: number;
  /** Milliseconds since the epoch; injectable so tests can rotate tokens without waiting. */
  now?: () => number;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

interface CachedToken {
  token: string;
  issuedAt: number;
  expiresAt: number;
  /** From here on, new connections get a fresh token. */
  renewAt: number;
}

/** A token is reused for at least this share of its lifetime, however short it is. */
const MIN_REUSE_FRACTION = 0.1;
const MIN_REUSE_MS = 1000;

export class TokenCache {
  private cached: CachedToken | undefined;
  private inflight: Promise<CachedToken> | undefined;
  private issued = 0;
  private failed = 0;
  private warnedShortLifetime = false;
  private readonly maxConnectionLifetimeMs: number;
  private readonly marginMs: number;
  private readonly now: () => number;
  private readonly logger: Pick<Logger, 'info' | 'warn'>;

  constructor(
    private readonly issuer: CredentialIssuer,
    options: TokenCacheOptions,
  ) {
    this.maxConnectionLifetimeMs = options.maxConnectionLifetimeSeconds * 1000;
    this.marginMs = (options.marginSeconds ?? 60) * 1000;
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? createLogger();
  }

  /** For pg: `new pg.Pool({ password: cache.password })`. */
  readonly password = (): Promise<string> => this.token();

  /** How many credentials were requested so far (for tests and metrics). */
  get issuedCount(): number {
    return this.issued;
  }

  /** How many credential requests failed (metrics). */
  get failedCount(): number {
    return this.failed;
  }

  /** The current token's validity window, without the token itself. */
  get current(): { issuedAt: Date; expiresAt: Date; renewAt: Date } | undefined {
    const cached = this.cached;
    if (cached === undefined) return undefined;
    return {
      issuedAt: new Date(cached.issuedAt),
      expiresAt: new Date(cached.expiresAt),
      renewAt: new Date(cached.renewAt),
    };
  }

  async token(): Promise<string> {
    const cached = this.cached;
    const now = this.now();
    if (cached !== undefined && now < cached.renewAt) return cached.token;
    try {
      return (await this.renew()).token;
    } catch (error) {
      this.failed += 1;
      // A token that is still valid keeps the gateway serving through a
      // credential-API outage, at the price of a connection that may outlive it.
      if (cached !== undefined && this.now() < cached.expiresAt - this.marginMs) {
        this.logger.warn(
          `Lakebase credential renewal for ${this.issuer.description} failed; reusing the current token, valid until ` +
            `${new Date(cached.expiresAt).toISOString()}: ${error instanceof Error ? error.message : String(error)}`,
        );
        return cached.token;
      }
      throw error;
    }
  }

  private renew(): Promise<CachedToken> {
    this.inflight ??= this.issue().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async issue(): Promise<CachedToken> {
    // Measure the lifetime from before the request: errs on the side of renewing early.
    const issuedAt = this.now();
    const credential = await this.issuer.issue();
    this.issued += 1;
    const expiresAt = credential.expiresAt.getTime();
    const lifetime = expiresAt - issuedAt;
    const latestSafeRenewal = expiresAt - this.maxConnectionLifetimeMs - this.marginMs;
    const earliestRenewal = issuedAt + Math.max(lifetime * MIN_REUSE_FRACTION, MIN_REUSE_MS);
    if (latestSafeRenewal < earliestRenewal && !this.warnedShortLifetime) {
      this.warnedShortLifetime = true;
      this.logger.warn(
        `Lakebase credentials for ${this.issuer.description} live ${Math.round(lifetime / 1000)} s, less than ` +
          `PG_MAX_LIFETIME_SECONDS (${this.maxConnectionLifetimeMs / 1000} s) plus ${this.marginMs / 1000} s: ` +
          'pooled connections may outlive their token; lower PG_MAX_LIFETIME_SECONDS',
      );
    }
    const cached: CachedToken = {
      token: credential.token,
      issuedAt,
      expiresAt,
      renewAt: Math.max(latestSafeRenewal, earliestRenewal),
    };
    this.cached = cached;
    this.logger.info(
      `Lakebase credential issued for ${this.issuer.description}: valid until ${new Date(expiresAt).toISOString()}, ` +
        `used for new connections until ${new Date(cached.renewAt).toISOString()}`,
    );
    return cached;
  }
}
