import http from 'node:http';

/**
 * One JSON POST at a time over a keep-alive connection, timed from the
 * request to the end of the response body, in milliseconds (autocannon
 * reports whole milliseconds; sub-millisecond latencies need this). Anything
 * but a 200 rejects, naming the URL. `close` lets the process exit.
 */
export function sequentialPoster(): { post: (url: string, body: string) => Promise<number>; close: () => void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const post = (url: string, body: string) =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      const request = http.request(
        url,
        { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
        (response) => {
          response.resume();
          response.on('end', () =>
            response.statusCode === 200
              ? resolve(performance.now() - started)
              : reject(new Error(`${url}: ${response.statusCode}`)),
          );
        },
      );
      request.on('error', reject);
      request.end(body);
    });
  return { post, close: () => agent.destroy() };
}
