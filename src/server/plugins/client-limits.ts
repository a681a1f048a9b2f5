import type { ErrorCode } from '../../errors.js';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { errorResponse } from '../http/error-response.js';

/**
 * Who a request comes from, for per-client limits. Behind a proxy the gateway trusts (TRUST_PROXY: the Databricks
 * Apps proxy, which authenticates every caller and sets these headers itself), the user the proxy names
 * (`X-Forwarded-User`, else `X-Forwarded-Email`), else the client address it names (`X-Real-Ip`, else the last
 * `X-Forwarded-For` hop, the one the nearest proxy appended). Otherwise the socket's address.
 *
 * Never a token: the gateway verifies none itself, and a client sending a new made-up token with each request was
 * a new client each time (2,000 subscriptions past a limit of 100; with TRUST_PROXY, 30 of 30 requests past a rate
 * limit of 20). Nor the first `X-Forwarded-For` hop, which is whatever the client wrote there when a proxy appends.
 */
export function clientIdentity(request: Request, serverContext: unknown, trustProxy: boolean): string {
  if (trustProxy) {
    const user = request.headers.get('x-forwarded-user') ?? request.headers.get('x-forwarded-email');
    if (user) return `user:${createHash('sha256').update(user.trim().toLowerCase()).digest('hex').slice(0, 16)}`;
    const address =
      request.headers.get('x-real-ip')?.trim() || request.headers.get('x-forwarded-for')?.split(',').at(-1)?.trim();
    if (address) return `ip:${address.slice(0, 64)}`;
  }
  const req = (serverContext as { req?: IncomingMessage } | undefined)?.req;
  return `ip:${req?.socket?.remoteAddress ?? 'unknown'}`;
}

export interface ClientLimitOptions {
  trustProxy: boolean;
  /** Requests per window per identity; 0 disables rate limiting. */
  rateLimitRequests: number;
  rateLimitWindowMs: number;
  /** Concurrent subscriptions per identity. */
  maxSubscriptionsPerClient: number;
  /** Paths never rate limited (health checks, metrics scrapes). */
  exempt: (pathname: string) => boolean;
}

/** Identities tracked by the rate limiter at most; past this, the oldest windows are forgotten first. */
const MAX_TRACKED = 100_000;

/**
 * Per-client limits, so that no one client can take what the others need:
 * - a fixed-window request rate per identity (off unless RATE_LIMIT_REQUESTS
 *   is set: local development and tests run unthrottled), answered with 429
 *   and Retry-After;
 * - a bound on concurrent subscriptions per identity, refused with a
 *   TOO_MANY_SUBSCRIPTIONS error before the subscription is registered, and
 *   released whenever the stream ends (completed, cancelled, or refused with 406).
 */
export function useClientLimits(options: ClientLimitOptions) {
  const windows = new Map<string, { start: number; count: number }>();
  const subscriptions = new Map<string, number>();
  let open = 0;

  const identityOf = (request: Request, serverContext: unknown) =>
    clientIdentity(request, serverContext, options.trustProxy);

  const release = (identity: string) => {
    open -= 1;
    const count = (subscriptions.get(identity) ?? 1) - 1;
    if (count <= 0) subscriptions.delete(identity);
    else subscriptions.set(identity, count);
  };

  const plugin: Plugin = {
    onRequest({ request, url, serverContext, endResponse }) {
      if (options.rateLimitRequests === 0 || options.exempt(url.pathname) || request.method === 'OPTIONS') return;
      const identity = identityOf(request, serverContext);
      const now = Date.now();
      let window = windows.get(identity);
      if (!window || now - window.start >= options.rateLimitWindowMs) {
        windows.delete(identity);
        if (windows.size >= MAX_TRACKED) windows.delete(windows.keys().next().value!);
        window = { start: now, count: 0 };
        windows.set(identity, window);
      }
      window.count += 1;
      if (window.count > options.rateLimitRequests) {
        const retryAfter = Math.max(1, Math.ceil((window.start + options.rateLimitWindowMs - now) / 1000));
        endResponse(
          errorResponse(
            429,
            `rate limit: more than ${options.rateLimitRequests} requests in ${options.rateLimitWindowMs} ms from this client; retry after ${retryAfter} s`,
            'RATE_LIMITED',
            { 'retry-after': String(retryAfter) },
          ),
        );
      }
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const context = args.contextValue as { request?: Request; req?: IncomingMessage };
      if (!context.request) return undefined;
      const identity = identityOf(context.request, context);
      const held = subscriptions.get(identity) ?? 0;
      if (held >= options.maxSubscriptionsPerClient) {
        setResultAndStopExecution({
          errors: [
            new GraphQLError(
              `this client already holds ${held} subscriptions, the most allowed per client (MAX_SUBSCRIPTIONS_PER_CLIENT); close one first`,
              { extensions: { code: 'TOO_MANY_SUBSCRIPTIONS' satisfies ErrorCode } },
            ),
          ],
        });
        return undefined;
      }
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isAsyncIterable(result)) return;
          subscriptions.set(identity, (subscriptions.get(identity) ?? 0) + 1);
          open += 1;
          setResult(onEnd(result, () => release(identity)));
        },
      };
    },
  };
  return { plugin, openSubscriptions: () => open, identityOf };
}

/** The same stream, calling `end` once when it finishes, fails or is cancelled. */
function onEnd<T>(iterable: AsyncIterable<T>, end: () => void): AsyncIterableIterator<T> {
  const iterator = iterable[Symbol.asyncIterator]();
  let ended = false;
  const finish = () => {
    if (ended) return;
    ended = true;
    end();
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      try {
        const result = await iterator.next();
        if (result.done) finish();
        return result;
      } catch (error) {
        finish();
        throw error;
      }
    },
    async return(value?: unknown) {
      finish();
      return (await iterator.return?.(value)) ?? { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      finish();
      if (iterator.throw) return iterator.throw(error);
      throw error;
    },
  };
}
