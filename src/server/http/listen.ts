import { createServer, type Server } from 'node:http';
import type { Gateway } from './gateway.js';

export interface Listening {
  server: Server;
  url: string;
  close(): Promise<void>;
}

export async function listen(gateway: Gateway, port: number, host: string): Promise<Listening> {
  const server = createServer(gateway);
  // SSE subscriptions hold connections open; Node's default 5 s keep-alive and
  // request timeouts must not cut them (keep-alive pings carry them instead).
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    server,
    url: `http://${shownHost}:${actualPort}/graphql`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
