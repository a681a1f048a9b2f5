/**
 * Writes the README's configuration table from src/config/variables.ts
 * (`npm run config:docs`), or with --check fails when the committed README
 * differs (`npm run config:check`, run by .ci/run beside schema:check).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import prettier from 'prettier';
import { withConfigurationTable } from '../src/config/docs.js';

const target = fileURLToPath(new URL('../README.md', import.meta.url));
const committed = await readFile(target, 'utf8');
const options = (await prettier.resolveConfig(target)) ?? {};
const generated = await prettier.format(withConfigurationTable(committed), { ...options, filepath: target });

if (process.argv.includes('--check')) {
  if (committed !== generated) {
    console.error('README.md configuration table is stale: run `npm run config:docs` and commit the result.');
    process.exit(1);
  }
  console.log('README.md configuration table is up to date.');
} else {
  await writeFile(target, generated);
  console.log(`wrote the configuration table in ${target}`);
}
