/**
 * Benchmarks time the gateway as production runs it: tsc's output, started
 * with plain node (`node dist/main.js`, see app.yaml). Run through tsx, the
 * same code costs more: tsx compiles with esbuild's keepNames, which wraps
 * every function created at run time in a defineProperty call (tens of
 * microseconds per aggregate request, measured on 2026-11-24).
 *
 * The parent calls buildGateway() once and passes its environment to the
 * server processes; gateway-modules.ts then loads dist/ instead of src/.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** Set in a server process's environment to choose what it runs: `dist` (default) or `src` (through tsx). */
export const GATEWAY_BUILD_ENV = 'BENCH_GATEWAY_BUILD';

export async function buildGateway(log: (line: string) => void): Promise<Record<string, string>> {
  if (process.env[GATEWAY_BUILD_ENV] === 'src') {
    log('gateway: src/ through tsx (BENCH_GATEWAY_BUILD=src), not the production build');
    return { [GATEWAY_BUILD_ENV]: 'src' };
  }
  const started = performance.now();
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const root = fileURLToPath(new URL('../..', import.meta.url));
  await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root }).catch(
    (error: Error & { stdout?: string }) => {
      throw new Error(`building the gateway (tsc -p tsconfig.build.json) failed:\n${error.stdout ?? error.message}`);
    },
  );
  log(`gateway: production build (dist/, built in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return { [GATEWAY_BUILD_ENV]: 'dist' };
}
