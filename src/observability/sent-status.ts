/**
 * The status the client was really sent, for the access log and the response metrics:
 * - when a request's body does not arrive within HTTP_REQUEST_TIMEOUT_MS, Node answers 408 on the socket itself
 *   and closes it; the handler, still reading the body, then fails and produces a 400 that is never sent;
 * - when the client went away before its answer (its statements were cancelled), nothing is sent: 499, as nginx
 *   logs a "client closed request", rather than the 200 the handler produced anyway.
 * Otherwise a slow-loris client reads as bad input, and an abandoned request as one served.
 */
export const CLIENT_CLOSED_REQUEST = 499;

export function sentStatus(request: Request, response: Response, serverContext: unknown): number {
  const req = (serverContext as { req?: { socket?: { errored?: { code?: unknown } | null } } } | null)?.req;
  if (req?.socket?.errored?.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  return request.signal.aborted ? CLIENT_CLOSED_REQUEST : response.status;
}
