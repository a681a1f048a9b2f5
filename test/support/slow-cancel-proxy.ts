/**
 * A TCP proxy in front of Postgres that passes every connection through, but
 * holds a CancelRequest for `delayMs` before passing it on, as a pooler or a
 * proxy across a network may. With it a test can make a cancel land after the
 * statement it was meant for has ended. Plain connections only (no SSL), as
 * the test cluster runs.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

const CANCEL_REQUEST_CODE = 80877102;

export interface SlowCancelProxy {
  port: number;
  /** CancelRequests seen, and those passed on to the server so far. */
  cancels: { received: number; forwarded: number };
  close(): Promise<void>;
}

export async function startSlowCancelProxy(
  target: { host: string; port: number },
  delayMs: number,
): Promise<SlowCancelProxy> {
  const sockets = new Set<net.Socket>();
  const proxy: SlowCancelProxy = { port: 0, cancels: { received: 0, forwarded: 0 }, close: async () => {} };
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('error', () => client.destroy());
    client.once('data', (first: Buffer) => {
      const isCancel = first.length === 16 && first.readInt32BE(4) === CANCEL_REQUEST_CODE;
      if (isCancel) proxy.cancels.received += 1;
      setTimeout(
        () => {
          const upstream = net.connect(target.port, target.host);
          sockets.add(upstream);
          upstream.write(first);
          if (isCancel) proxy.cancels.forwarded += 1;
          client.pipe(upstream);
          upstream.pipe(client);
          const end = () => {
            client.destroy();
            upstream.destroy();
            sockets.delete(client);
            sockets.delete(upstream);
          };
          client.on('close', end);
          upstream.on('close', end).on('error', end);
        },
        isCancel ? delayMs : 0,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
