import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS and ESM side by side. Node resolves a bare "graphql"
    // import through "main" (index.js, CJS) even from ESM, which is what Pothos
    // and yoga get; Vite would pick "module" (index.mjs). Both copies in one
    // process make schema types from "another realm" be rejected.
    alias: [
      { find: /^graphql$/, replacement: fileURLToPath(new URL('./node_modules/graphql/index.js', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: more workers only add contention on the shared Postgres.
    maxWorkers: 2,
  },
});
