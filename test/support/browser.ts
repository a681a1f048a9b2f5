/**
 * A real browser for the dashboard tests: Debian's headless Chromium
 * (chromium-headless-shell, or chromium), driven by playwright-core. Its own
 * browser downloads are not reachable from CI, so the binary must be installed
 * (scripts/test-system-packages.sh, which `npm test` and .ci/run run first, installs it with apt-get when missing).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function chromiumPath(): string {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return configured;
  const found = CANDIDATES.find((candidate) => existsSync(candidate));
  if (!found) {
    throw new Error(
      `No headless Chromium found (looked for ${CANDIDATES.join(', ')}). ` +
        'Install it with `apt-get install -y chromium-headless-shell`, or set CHROMIUM_PATH.',
    );
  }
  return found;
}

export function launchBrowser(): Promise<Browser> {
  // --no-sandbox: CI and these machines run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
}
