/**
 * A TCP proxy in front of Postgres that passes every connection through, but
 * holds a CancelRequest for `delayMs` before passing it on, as a pooler or a
 * proxy across a network may. With it a test can make a cancel land after the
 * statement it was meant for has ended. Plain connections only (no SSL), as
 * the test cluster runs.
 */
import net from 'node:net';
import { endTogether, listenOnLoopback } from './loopback-server.js';

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
  const cancels = { received: 0, forwarded: 0 };
  const server = await listenOnLoopback((client, sockets) => {
    sockets.add(client);
    client.on('error', () => client.destroy());
    client.once('data', (first: Buffer) => {
      const isCancel = first.length === 16 && first.readInt32BE(4) === CANCEL_REQUEST_CODE;
      if (isCancel) cancels.received += 1;
      setTimeout(
        () => {
          const upstream = net.connect(target.port, target.host);
          sockets.add(upstream);
          upstream.write(first);
          if (isCancel) cancels.forwarded += 1;
          client.pipe(upstream);
          upstream.pipe(client);
          endTogether(client, upstream, sockets);
        },
        isCancel ? delayMs : 0,
      );
    });
  });
  return { port: server.port, cancels, close: server.close };
}
