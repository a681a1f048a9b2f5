/**
 * CORS from CORS_ORIGINS. Yoga's default echoes any Origin with
 * Access-Control-Allow-Credentials: true, i.e. lets every site call the API
 * with the user's cookies. Here:
 * - unset (default): same origin only, no CORS headers at all (the dashboard
 *   and GraphiQL are served by the gateway itself);
 * - a list of origins: those get CORS headers, with credentials;
 * - `*`: any origin, never with credentials.
 */
export function corsOptions(origins: readonly string[] | '*') {
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin) return false as const;
    const common = {
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      // x-admin-token: the README's other way to send the refresh token. (If-None-Match is set by the browser's
      // own cache, which needs no preflight.)
      allowedHeaders: [
        'content-type',
        'accept',
        'authorization',
        'x-admin-token',
        'x-request-id',
        'x-graphql-event-stream-token',
      ],
      // etag: a client revalidating by hand (If-None-Match) must be able to read the tag.
      exposedHeaders: ['x-request-id', 'etag'],
      maxAge: 600,
    };
    if (origins === '*') return { ...common, origin: '*', credentials: false };
    if (origins.includes(origin)) return { ...common, origin, credentials: true };
    return false as const;
  };
}
