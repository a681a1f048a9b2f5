import type { Plugin } from 'graphql-yoga';

/**
 * Headers every answer needs whoever produced it (yoga, GraphiQL, the dashboard's files, the stream endpoints):
 * - `X-Content-Type-Options: nosniff` on all of them;
 * - on HTML pages (the dashboard, GraphiQL), no framing by other sites: `Content-Security-Policy: frame-ancestors
 *   'self'` and `X-Frame-Options: SAMEORIGIN` for older browsers. A foreign page could frame GraphiQL, filled in
 *   from `?query=` with the refresh mutation, under a decoy button (clickjacking);
 * - `Vary: Origin` when CORS_ORIGINS is a list: the CORS headers then depend on the request's Origin, and a cache
 *   that stored one origin's answer served it to another without its Access-Control-Allow-Origin.
 */
export function useSecurityHeaders(corsOrigins: readonly string[] | '*'): Plugin {
  const varyOrigin = corsOrigins !== '*' && corsOrigins.length > 0;
  return {
    onResponse({ response }) {
      try {
        addHeaders(response.headers, varyOrigin);
      } catch {
        // Immutable headers (a Response.redirect, one passed through from fetch) stay as they are.
      }
    },
  };
}

function addHeaders(headers: Headers, varyOrigin: boolean): void {
  if (!headers.has('x-content-type-options')) headers.set('x-content-type-options', 'nosniff');
  if (headers.get('content-type')?.startsWith('text/html')) {
    if (!headers.has('content-security-policy')) headers.set('content-security-policy', "frame-ancestors 'self'");
    if (!headers.has('x-frame-options')) headers.set('x-frame-options', 'SAMEORIGIN');
  }
  if (varyOrigin) {
    const vary = headers.get('vary');
    if (!vary) headers.set('vary', 'Origin');
    else if (!/(^|,)\s*origin\s*(,|$)/i.test(vary)) headers.set('vary', `${vary}, Origin`);
  }
}
