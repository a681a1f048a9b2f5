/**
 * The build identity (src/observability/build-identity.ts) tells deploys apart where package.json's version does
 * not: it follows the code, file by file, and nothing else.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIdentity } from '../src/observability/build-identity.js';

describe('the build identity', () => {
  let root: string;
  let code: string;
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'lakebase-graphql-build-'));
    code = path.join(root, 'dist');
    await mkdir(path.join(code, 'server'), { recursive: true });
    await writeFile(path.join(root, 'package.json'), JSON.stringify({ version: '1.2.3' }));
    await writeFile(path.join(code, 'main.js'), 'export {};\n');
    await writeFile(path.join(code, 'server', 'app.js'), 'export const a = 1;\n');
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("names package.json's version and a digest that changes with any code file, and only with code", async () => {
    const first = buildIdentity(code);
    expect(first).toEqual({ version: '1.2.3', build: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(buildIdentity(code)).toEqual(first);
    await writeFile(path.join(code, 'notes.txt'), 'not code');
    expect(buildIdentity(code).build).toBe(first.build);
    await writeFile(path.join(code, 'server', 'app.js'), 'export const a = 2;\n');
    const changed = buildIdentity(code);
    expect(changed.build).not.toBe(first.build);
    // A file moved is another build too, though no content changed.
    await mkdir(path.join(code, 'other'));
    await writeFile(path.join(code, 'other', 'app.js'), 'export const a = 2;\n');
    await rm(path.join(code, 'server', 'app.js'));
    expect(buildIdentity(code).build).not.toBe(changed.build);
  });

  it("is this checkout's own by default", () => {
    expect(buildIdentity()).toEqual({ version: expect.any(String), build: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(buildIdentity().version).not.toBe('unknown');
  });
});
