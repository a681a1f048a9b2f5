/**
 * A TCP proxy in front of Postgres that behaves, for LISTEN, like a pooler in
 * transaction mode: every statement works, LISTEN is accepted, but
 * notifications never reach the client (the server's NotificationResponse
 * messages, type 'A', are dropped). Plain connections only (no SSL), as the
 * test cluster runs.
 */
import net from 'node:net';
import { endTogether, listenOnLoopback } from './loopback-server.js';

const SSL_REQUEST = 80877103;

export interface NotificationDroppingProxy {
  port: number;
  dropped: number;
  close(): Promise<void>;
}

export async function startNotificationDroppingProxy(target: {
  host: string;
  port: number;
}): Promise<NotificationDroppingProxy> {
  const proxy: NotificationDroppingProxy = { port: 0, dropped: 0, close: async () => {} };
  const server = await listenOnLoopback((client, sockets) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    // A client's SSLRequest (PGSSLMODE=prefer asks before it logs in) is answered here, 'N' as a server without
    // TLS answers: its one-byte answer is no typed message, and the filter below would hold it back for ever.
    client.once('data', (first: Buffer) => {
      if (first.length >= 8 && first.readInt32BE(0) === 8 && first.readInt32BE(4) === SSL_REQUEST) {
        client.write('N');
        const rest = first.subarray(8);
        if (rest.length > 0) upstream.write(rest);
      } else {
        upstream.write(first);
      }
      client.pipe(upstream);
    });
    // Server messages: 1 type byte + int32 length (including itself) + body.
    let buffer = Buffer.alloc(0);
    upstream.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const out: Buffer[] = [];
      while (buffer.length >= 5) {
        const length = buffer.readInt32BE(1);
        if (buffer.length < 1 + length) break;
        const message = buffer.subarray(0, 1 + length);
        buffer = buffer.subarray(1 + length);
        if (message[0] === 0x41 /* 'A' NotificationResponse */) proxy.dropped += 1;
        else out.push(message);
      }
      if (out.length > 0) client.write(Buffer.concat(out));
    });
    endTogether(client, upstream, sockets);
  });
  proxy.port = server.port;
  proxy.close = server.close;
  return proxy;
}
