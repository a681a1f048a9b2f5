/**
 * What @databricks/sdk-experimental's own fetch does wrong on the wire, mended from outside it, for the
 * workspace hosts registered here (every HTTP request Node's http/https modules make to them, whoever makes it):
 *
 * - It follows a 301 or 302 itself, sending every header (the bearer token; the client secret of the OAuth
 *   token exchange, in its body) to whatever the Location says, `http://` included, and the call it came from
 *   never settles. A relative Location is an unhandled rejection besides. A 303, 307 or 308 reads as success
 *   with an empty body. A Databricks API does not redirect; a redirect means DATABRICKS_HOST is not the
 *   workspace's URL (`http://` for `https://`, a login page, a proxy), so each becomes an error naming where it
 *   pointed, and nothing is sent there.
 * - Its agents' `timeout` is never acted on: a workspace that accepts the connection and never answers held a
 *   sync status read or a refresh forever. A request idle for `timeoutMs` is ended with an error saying so.
 *
 * Node announces every client request on the `http.client.request.start` diagnostics channel before its response
 * can arrive; the listener added there runs before the SDK's own.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage } from 'node:http';

/** The status and reason the SDK sees for a refused redirect; `describeApiFailure` turns it back into a sentence. */
const REFUSED_REDIRECT_STATUS = 421;
const REFUSED_REDIRECT_PREFIX = 'REDIRECT_REFUSED';
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** How long a request to the workspace may wait for its next byte: REST answers come in a second or two. */
const DEFAULT_WORKSPACE_HTTP_TIMEOUT_MS = 30_000;

/** `host:port` → idle deadline in ms; several clients of one host keep the shortest. Kept for the process's life. */
const guarded = new Map<string, number>();
let subscribed = false;
/**
 * Per host, the redirect refused when that was the host's last answer: the SDK's OAuth discovery and token
 * exchange make their own errors of a failed answer, without its status or reason, so the auth failure's
 * description looks here. Any other outcome of a later request forgets it, so an older redirect is not blamed.
 */
const lastRefused = new Map<string, { status: number; location: string }>();

/** Guards every request to `host` (the workspace URL) from now on. */
export function guardWorkspaceHost(host: string, timeoutMs = DEFAULT_WORKSPACE_HTTP_TIMEOUT_MS): void {
  const key = hostKeyOfUrl(host);
  guarded.set(key, Math.min(timeoutMs, guarded.get(key) ?? Infinity));
  if (subscribed) return;
  diagnostics_channel.subscribe('http.client.request.start', onRequestStart);
  subscribed = true;
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/** `hostname:port` of the workspace URL (https when it names no scheme, as the SDK assumes). */
function hostKeyOfUrl(host: string): string {
  try {
    const url = new URL(host.includes('://') ? host : `https://${host}`);
    return `${url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase()}:${url.port || DEFAULT_PORTS[url.protocol] || ''}`;
  } catch {
    return host.toLowerCase();
  }
}

/** The same for a request about to be sent, from its Host header (which carries a port that is not the default). */
function hostKeyOfRequest(request: ClientRequest): string {
  const header = request.getHeader('host');
  const hostHeader = typeof header === 'string' ? header : String(request.host);
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(hostHeader);
  const hostname = (match?.[1] ?? hostHeader).replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return `${hostname}:${match?.[2] ?? DEFAULT_PORTS[request.protocol] ?? ''}`;
}

function onRequestStart(message: unknown): void {
  const request = (message as { request?: ClientRequest }).request;
  if (!request) return;
  const timeoutMs = guarded.get(hostKeyOfRequest(request));
  if (timeoutMs === undefined) return;
  const key = hostKeyOfRequest(request);
  request.setTimeout(timeoutMs, () => {
    lastRefused.delete(key);
    request.destroy(
      new WorkspaceNoAnswerError(
        `the workspace at ${request.host} sent nothing for ${timeoutMs / 1000} s (${request.method} ${pathOf(request)})`,
      ),
    );
  });
  request.prependOnceListener('response', (response: IncomingMessage) => {
    const status = response.statusCode ?? 0;
    if (!REDIRECT_STATUSES.has(status)) {
      lastRefused.delete(key);
      return;
    }
    const location = response.headers.location;
    // What the SDK's fetch tests before following (status 301/302 and a Location): neither holds any more.
    delete response.headers.location;
    lastRefused.set(key, { status, location: location ?? '(no Location)' });
    response.statusCode = REFUSED_REDIRECT_STATUS;
    response.statusMessage = `${REFUSED_REDIRECT_PREFIX} ${status} ${location ?? '(no Location)'}`;
  });
}

/** A path without its query, which may carry a token. */
function pathOf(request: ClientRequest): string {
  return request.path.split('?')[0] ?? '';
}

class WorkspaceNoAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkspaceNoAnswerError';
  }
}

/** Whether `error` is a request this guard ended, itself or quoted by the SDK's OAuth code that wrapped it. */
export function isWorkspaceNoAnswer(error: unknown, text: string): boolean {
  return error instanceof WorkspaceNoAnswerError || / sent nothing for \d/.test(text);
}

/** The redirect refused from `host` (the workspace URL), when that was its last answer. */
export function lastRefusedRedirect(host: string): { status: number; location: string } | undefined {
  return lastRefused.get(hostKeyOfUrl(host));
}

/** The redirect a refused answer carried, read back from what the SDK made of it (its error code or message). */
export function refusedRedirectOf(text: string): { status: number; location: string } | undefined {
  const match = new RegExp(`${REFUSED_REDIRECT_PREFIX} (3\\d\\d) (\\S+)`).exec(text);
  if (!match) return undefined;
  return { status: Number(match[1]), location: match[2]! };
}
