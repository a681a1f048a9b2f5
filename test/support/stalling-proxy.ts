/**
 * A TCP proxy in front of Postgres that can stall: from `stall()` on, it passes nothing in either direction
 * and closes nothing, as a hung pooler, a frozen compute or a partition that drops packets does. Connections
 * opened while it stalls are accepted and answered with nothing too. `resume()` lets new connections through
 * (the stalled ones stay stalled until a side closes them). Plain connections only, as the test cluster runs.
 */
import net from 'node:net';
import { endTogether, listenOnLoopback } from './loopback-server.js';

export interface StallingProxy {
  port: number;
  stall(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startStallingProxy(target: { host: string; port: number }): Promise<StallingProxy> {
  let stalled = false;
  const server = await listenOnLoopback((client, sockets) => {
    sockets.add(client);
    const upstream = net.connect(target.port, target.host);
    sockets.add(upstream);
    // Decided per connection: one opened before the stall stalls from then on, for good.
    let frozen = stalled;
    const freeze = () => (frozen = true);
    stallers.add(freeze);
    client.on('data', (chunk) => {
      if (!frozen) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!frozen) client.write(chunk);
    });
    endTogether(client, upstream, sockets, () => stallers.delete(freeze));
  });
  const stallers = new Set<() => void>();
  return {
    port: server.port,
    stall() {
      stalled = true;
      for (const freeze of stallers) freeze();
    },
    resume() {
      stalled = false;
    },
    close: server.close,
  };
}
