/**
 * The status the client was really sent. When a request's body does not arrive within HTTP_REQUEST_TIMEOUT_MS,
 * Node answers 408 on the socket itself and closes it; the handler, still reading the body, then fails and
 * produces a 400 that is never sent. Logs and metrics must say 408, or a slow-loris client reads as bad input.
 */
export function sentStatus(response: Response, serverContext: unknown): number {
  const req = (serverContext as { req?: { socket?: { errored?: { code?: unknown } | null } } } | null)?.req;
  return req?.socket?.errored?.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : response.status;
}
