/**
 * GraphQL Code Generator: typed operations for the dashboard (web/), from the
 * committed schema.graphql. `npm run codegen` writes web/src/gql/ (committed);
 * `npm run codegen:check` fails when it is stale, like schema:check.
 * persistedDocuments writes web/src/gql/persisted-documents.json (hash ->
 * document), the manifest a "persisted operations only" gateway accepts.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['web/src/**/*.{ts,tsx}', '!web/src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'web/src/gql/': {
      preset: 'client',
      presetConfig: { persistedDocuments: true, fragmentMasking: false },
      config: {
        scalars: { BigInt: 'string', DateTime: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
        strictScalars: true,
      },
    },
  },
};

export default config;
