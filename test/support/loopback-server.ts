import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP server on a free loopback port, for the test proxies in front of Postgres. `sockets` holds every
 * socket a proxy opens, so that closing the server also cuts the connections through it (a network cut).
 */
export async function listenOnLoopback(
  onConnection: (client: net.Socket, sockets: Set<net.Socket>) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => onConnection(client, sockets));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Ends a proxied connection's two sides together: when either closes or fails, both are destroyed and
 * forgotten by the listener (`sockets`). `onEnd` runs once more per end, for a proxy's own bookkeeping.
 */
export function endTogether(client: net.Socket, upstream: net.Socket, sockets: Set<net.Socket>, onEnd = () => {}) {
  const end = () => {
    onEnd();
    client.destroy();
    upstream.destroy();
    sockets.delete(client);
    sockets.delete(upstream);
  };
  client.on('close', end).on('error', end);
  upstream.on('close', end).on('error', end);
}
