/**
 * One gateway process for the subscriptions benchmark, driven over IPC by
 * bench/subscriptions.ts: configured from the environment like the real app,
 * listening on 127.0.0.1 on a free port. Answers "stats" with its own RSS, CPU
 * time and live feed counters, so the figures are the gateway's alone.
 */
import { createApp, createLogger, listen, loadConfig } from './gateway-modules.js';

export interface GatewayStats {
  type: 'stats';
  rss: number;
  heapUsed: number;
  /** process.cpuUsage() user + system, microseconds. */
  cpuMicros: number;
  feed: ReturnType<ReturnType<typeof createApp>['live']['feed']['stats']>;
  statements: number;
}

const loaded = loadConfig();
if (!loaded.database) throw new Error('DATABASE_URL is required');
const config = { ...loaded, database: loaded.database };
const app = createApp({ config, logger: createLogger(config.logLevel) });
await app.initialised;
const http = await listen(app.gateway, 0, '127.0.0.1');
process.send?.({ type: 'ready', url: http.url });

process.on('message', (message: { type: string; collectGarbage?: boolean }) => {
  if (message.type === 'stats') {
    // With --expose-gc: heap figures of live objects only, not of garbage not yet collected.
    if (message.collectGarbage) (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    const stats: GatewayStats = {
      type: 'stats',
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      cpuMicros: cpu.user + cpu.system,
      feed: app.live.feed.stats(),
      statements: app.statements.total,
    };
    process.send?.(stats);
  } else if (message.type === 'stop') {
    void (async () => {
      await http.close();
      await app.close();
      process.exit(0);
    })();
  }
});
