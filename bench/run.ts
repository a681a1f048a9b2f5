/**
 * `npm run bench` runs every benchmark part in turn; `npm run bench -- trips`
 * runs one, and further arguments go to it (`npm run bench -- trips --duration 20`).
 * Each part is its own script, run in its own process so parts do not share
 * state (servers, pools, the JIT's warm-up).
 */
import { spawn } from 'node:child_process';

const PARTS: Record<string, string> = {
  trips: 'bench/trips.ts',
  'dashboard-mix': 'bench/dashboard-mix.ts',
  'load-rate': 'bench/load-rate.ts',
  aggregates: 'bench/aggregates.ts',
  subscriptions: 'bench/subscriptions.ts',
  'pipeline-sync': 'bench/pipeline-sync.ts',
  abuse: 'bench/abuse.ts',
  'capture-writes': 'bench/capture-writes.ts',
  'web-page': 'bench/web-page.ts',
};

const [requested, ...rest] = process.argv.slice(2);
if (requested !== undefined && !(requested in PARTS)) {
  console.error(`unknown benchmark part "${requested}"; known: ${Object.keys(PARTS).join(', ')}`);
  process.exit(2);
}
const parts = requested === undefined ? Object.keys(PARTS) : [requested];

for (const part of parts) {
  const script = PARTS[part];
  if (!script) continue;
  console.log(`\n=== bench ${part} (${script}) ===`);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...rest], { stdio: 'inherit' });
    child.once('exit', resolve);
  });
  if (code !== 0) {
    console.error(`bench ${part} failed (exit code ${code})`);
    process.exit(code ?? 1);
  }
}
