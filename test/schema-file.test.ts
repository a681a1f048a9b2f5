import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printSchemaFile } from '../src/schema/print.js';

describe('schema.graphql', () => {
  it('is in step with the Pothos code (run `npm run schema` when this fails)', () => {
    expect(readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8')).toBe(printSchemaFile());
  });

  it('is sorted lexicographically, so diffs stay small', () => {
    const typeNames = [...printSchemaFile().matchAll(/^(?:type|input|enum|scalar|interface) (\w+)/gm)].map((m) => m[1]);
    expect(typeNames).toEqual([...typeNames].sort());
  });

  it('covers the shared API contract', () => {
    let output: string;
    try {
      // The shared tools sit beside the main checkout (../shared) or, from a worktree under wt/, two levels up.
      const tool =
        ['../shared/tools/contract-diff.mjs', '../../shared/tools/contract-diff.mjs'].find((candidate) =>
          existsSync(candidate),
        ) ?? '../shared/tools/contract-diff.mjs';
      output = execFileSync('node', [tool, 'schema.graphql'], { encoding: 'utf8' });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output).toContain('schema.graphql covers the API contract');
  });
});
