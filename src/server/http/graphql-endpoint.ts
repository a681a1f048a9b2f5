// The class only: the package's main entry also installs itself as the global URLPattern.
import { URLPattern } from 'urlpattern-polyfill/urlpattern';

type URLPatternInput = Parameters<URLPattern['test']>[0];

/**
 * Yoga's `graphqlEndpoint`, as a URLPattern: exactly /graphql and /api/graphql.
 * /api/graphql is the same API for OAuth token callers (BI tools, scripts,
 * services), whom the Databricks Apps proxy lets through only on paths under
 * /api/. The stream paths (`<path>/stream`) are in sse/transport.ts.
 */
export const GRAPHQL_ENDPOINT = '{/api}?/graphql';

/** The pathnames GRAPHQL_ENDPOINT matches (test/graphql-endpoint.test.ts checks this against URLPattern itself). */
export const GRAPHQL_PATHS: ReadonlySet<string> = new Set(['/graphql', '/api/graphql']);

/**
 * URLPattern for yoga's `fetchAPI`, answering the endpoint's own pattern from
 * GRAPHQL_PATHS. Yoga tests every request whose URL does not end in the
 * endpoint string (ours is a pattern, so all of them) against the pattern, and
 * on Node 20 and 22 that is this polyfill: 3 µs a request in a busy loop, more
 * in the sequential requests of a dashboard or a BI tool, for an answer that is
 * a set lookup. Any other pattern (yoga makes them for GraphiQL and its own
 * health check), and any input that is not a URL object, goes to the polyfill
 * unchanged.
 */
export class GatewayURLPattern extends URLPattern {
  private readonly paths: ReadonlySet<string> | undefined;

  constructor(...args: ConstructorParameters<typeof URLPattern>) {
    super(...args);
    const [init] = args;
    const endpoint =
      typeof init === 'object' && init !== null && Object.keys(init).length === 1 ? init.pathname : undefined;
    this.paths = endpoint === GRAPHQL_ENDPOINT ? GRAPHQL_PATHS : undefined;
  }

  // Yoga passes a URL object: a URLPatternInit to URLPattern (its protocol, pathname, ... are the init's fields).
  override test(input?: URLPatternInput, baseURL?: string): boolean {
    if (this.paths !== undefined && input instanceof URL && baseURL === undefined)
      return this.paths.has(input.pathname);
    return super.test(input, baseURL);
  }
}
