import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, gatewayError, UserInputError } from '../src/errors.js';

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => path.join(e.parentPath, e.name));
}

/** One error vocabulary: every code a client can see is declared in src/errors.ts and typed at its use. */
describe('error codes', () => {
  it('are built with the code first, then the details', () => {
    const error = gatewayError('SUBSCRIBER_TOO_SLOW', 'too slow', { cursor: 'c1' });
    expect(error.message).toBe('too slow');
    expect(Object.entries(error.extensions)).toEqual([
      ['code', 'SUBSCRIBER_TOO_SLOW'],
      ['cursor', 'c1'],
    ]);
    expect(new UserInputError('first', 'must not be negative').extensions).toEqual({
      code: 'BAD_USER_INPUT',
      argument: 'first',
    });
  });

  it('appear in src/ only as declared codes checked by the type system', async () => {
    const untyped: string[] = [];
    // src/errors.ts declares them.
    for (const file of (await sources('src')).filter((name) => name !== path.join('src', 'errors.ts'))) {
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/code: '([A-Z_]+)'(?! satisfies ErrorCode)/g)) {
        if (match[1] && match[1] in ERROR_CODES) untyped.push(`${file}: ${match[1]}`);
      }
    }
    expect(untyped).toEqual([]);
  });
});
