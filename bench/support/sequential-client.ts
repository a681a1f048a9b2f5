/**
 * The client of bench/sequential-layers.ts, in its own process: POSTs one
 * GraphQL body at a time over one keep-alive connection, as a dashboard or a
 * BI tool waiting for each answer does. Told by its parent how many requests
 * to warm up with and to time; answers with the timed requests' p50 in µs.
 */
import http from 'node:http';

const [url, body] = [process.argv[2]!, process.argv[3]!];
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const headers = {
  'content-type': 'application/json',
  accept: 'application/json',
  'content-length': Buffer.byteLength(body),
};

const one = () =>
  new Promise<number>((resolve, reject) => {
    const started = performance.now();
    const request = http.request(url, { method: 'POST', agent, headers }, (response) => {
      if (response.statusCode !== 200) reject(new Error(`${url} answered ${response.statusCode}`));
      response.resume();
      response.on('end', () => resolve(performance.now() - started));
    });
    request.on('error', reject);
    request.end(body);
  });

process.on('message', (message: { warmup: number } | { timed: number }) => {
  void (async () => {
    if ('warmup' in message) {
      for (let i = 0; i < message.warmup; i += 1) await one();
      process.send!({ warm: true });
      return;
    }
    const times: number[] = [];
    for (let i = 0; i < message.timed; i += 1) times.push(await one());
    times.sort((a, b) => a - b);
    process.send!({ p50: Math.round(times[times.length >> 1]! * 1000) });
    agent.destroy();
  })().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
});
