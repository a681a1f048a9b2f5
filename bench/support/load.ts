/**
 * Closed-loop HTTP load with autocannon: `connections` clients each send the
 * next request as soon as the previous answer arrives, so requests/s is the
 * server's capacity at that concurrency. Call warmUp first (its figures are
 * discarded) so the JIT, the pool and Postgres' caches have settled.
 */
import autocannon from 'autocannon';

export interface LoadRequest {
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Connection errors, timeouts and non-2xx answers; a run with any is not a valid measurement. */
  failures: number;
}

export async function warmUp(request: LoadRequest, connections: number, seconds: number): Promise<void> {
  if (seconds > 0) await run(request, connections, seconds);
}

export async function measure(request: LoadRequest, connections: number, seconds: number): Promise<LoadResult> {
  const result = await run(request, connections, seconds);
  return {
    requests: result.requests.total,
    seconds: result.duration,
    requestsPerSecond: result.requests.total / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures: result.errors + result.timeouts + result.non2xx,
  };
}

function run(request: LoadRequest, connections: number, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: request.url,
    method: request.method,
    headers: request.headers,
    body: request.body,
    connections,
    duration: seconds,
    pipelining: 1,
    timeout: 10,
  });
}
