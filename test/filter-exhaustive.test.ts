import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A field added to TripFilter must not compile until every consumer of the
 * parsed filter handles it: the SQL compiler, the in-memory matcher, the
 * rollup planner and the bucket estimate (and the parser's own table). This
 * typechecks a copy of src/ with one more field and reads tsc's errors.
 */
const CONSUMERS = [
  'src/trips/parse-filter.ts',
  'src/trips/filter.ts',
  'src/trips/match-filter.ts',
  'src/aggregates/rollup/planner.ts',
  'src/aggregates/bucket-estimate.ts',
];

const tsc = path.resolve('node_modules/typescript/bin/tsc');
let dir: string;

async function typecheck(): Promise<string> {
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmit'], { cwd: dir });
    return '';
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? error);
  }
}

describe('TripFilter consumers are exhaustive', () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lakebase-filter-fields-'));
    await cp('src', path.join(dir, 'src'), { recursive: true });
    await symlink(path.resolve('node_modules'), path.join(dir, 'node_modules'));
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    const base = JSON.parse(await readFile('tsconfig.json', 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify({ ...base, include: ['src'] }));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('the copy of src/ typechecks as it is', async () => {
    expect(await typecheck()).toBe('');
  }, 180_000);

  it('a new field fails to compile in every consumer until each handles it', async () => {
    const input = path.join(dir, 'src/trips/filter-input.ts');
    const source = await readFile(input, 'utf8');
    const patched = source.replace(
      '  tripDistance?: Maybe<FloatFilter>;\n',
      '  tripDistance?: Maybe<FloatFilter>;\n  tipAmount?: Maybe<FloatFilter>;\n',
    );
    expect(patched).not.toBe(source);
    await writeFile(input, patched);
    const errors = await typecheck();
    // One block per error: its first line names the file, the lines after it continue the message.
    const blocks = errors.split(/\n(?=\S)/);
    for (const consumer of CONSUMERS) {
      const mine = blocks.filter((block) => block.startsWith(`${consumer}(`));
      expect(mine.join('\n'), `${consumer} accepts a TripFilter field it does not handle`).toMatch(/tipAmount/);
    }
    expect(
      blocks.filter((block) => /error TS/.test(block) && !CONSUMERS.some((c) => block.startsWith(`${c}(`))),
    ).toEqual([]);
  }, 180_000);
});
