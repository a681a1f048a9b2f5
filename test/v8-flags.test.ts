import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { V8_FLAGS, v8FlagsState } from '../src/server/fast-paths/v8-flags.js';

/**
 * The V8 fast path (src/server/fast-paths/README.md) is a command-line flag:
 * these tests guard that every way production starts node passes it, and that
 * the startup log reports it from what node was really given.
 */
describe('V8 flags', () => {
  it('are on the command line of npm start and of app.yaml', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { scripts: Record<string, string> };
    const app = parseYaml(await readFile('app.yaml', 'utf8')) as { command: string[] };
    for (const flag of V8_FLAGS) {
      expect(pkg.scripts.start).toContain(flag);
      expect(app.command.slice(0, -1)).toContain(flag);
    }
    expect(app.command[0]).toBe('node');
    expect(app.command.at(-1)).toBe('dist/main.js');
  });

  it('are read back from the arguments node was started with, the last one winning', () => {
    expect(v8FlagsState([])).toEqual({ allocationSitePretenuring: 'on (V8 default)' });
    expect(v8FlagsState(['--no-allocation-site-pretenuring'])).toEqual({ allocationSitePretenuring: 'off' });
    expect(v8FlagsState(['--no-allocation_site_pretenuring', '--allocation-site-pretenuring'])).toEqual({
      allocationSitePretenuring: 'on (V8 default)',
    });
  });

  it('are accepted by this node (an unknown V8 flag would stop startup)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      ...V8_FLAGS,
      '-e',
      'process.stdout.write(JSON.stringify(process.execArgv))',
    ]);
    expect((JSON.parse(stdout) as string[]).slice(0, V8_FLAGS.length)).toEqual([...V8_FLAGS]);
  });
});
