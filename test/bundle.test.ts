/**
 * The Asset Bundle (databricks.yml, resources/*.yml) against the published
 * bundle JSON Schema, strictly: unknown or mistyped fields fail. Plus app.yaml
 * against the documented app.yaml settings, and the references between files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { V8_FLAGS } from '../src/server/fast-paths/v8-flags.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const schemaPath = path.resolve(root, '../shared/databricks/bundle-schema.json');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function readYaml(relative: string): JsonObject {
  const value = parse(readFileSync(path.join(root, relative), 'utf8')) as Json;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${relative} is not a YAML mapping`);
  }
  return value;
}

function object(value: Json | undefined, where: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where} is not a mapping`);
  return value;
}

/** The files `include` names; only `dir/*.ext` patterns are used, so no glob library is needed. */
function includedFiles(bundle: JsonObject): string[] {
  const include = bundle.include;
  if (!Array.isArray(include)) return [];
  return include.flatMap((pattern) => {
    const match = /^([\w./-]+)\/\*(\.\w+)$/.exec(String(pattern));
    if (!match) throw new Error(`unsupported include pattern ${String(pattern)}`);
    const [, dir = '', suffix = ''] = match;
    return readdirSync(path.join(root, dir))
      .filter((file) => file.endsWith(suffix))
      .sort()
      .map((file) => `${dir}/${file}`);
  });
}

/**
 * The published schema forbids unknown properties on every object except the
 * root, where `additionalProperties: {}` would let a misspelt top-level key
 * (`resource:`) pass. The copy used here closes the root too.
 */
function strictBundleValidator(): ValidateFunction {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as JsonObject;
  expect(schema.additionalProperties).toEqual({});
  const strict = { ...schema, additionalProperties: false };
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false });
  // Annotations the CLI's schema uses for editors; they do not constrain values.
  ajv.addVocabulary([
    'markdownDescription',
    'deprecationMessage',
    'doNotSuggest',
    'enumDescriptions',
    'x-databricks-launch-stage',
  ]);
  return ajv.compile(strict);
}

/** https://docs.databricks.com/dev-tools/databricks-apps/app-runtime: command and env are the settings. */
const appYamlSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    command: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    env: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', pattern: '^[A-Z_][A-Z0-9_]*$' },
          value: { type: 'string' },
          valueFrom: { type: 'string', minLength: 1 },
        },
        oneOf: [{ required: ['value'] }, { required: ['valueFrom'] }],
      },
    },
  },
};

function appYamlValidator(): ValidateFunction {
  // strictRequired would reject the oneOf branches, which only name properties declared above them.
  return new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(appYamlSchema);
}

const validateBundle = strictBundleValidator();
const bundle = readYaml('databricks.yml');
const bundleFiles = ['databricks.yml', ...includedFiles(bundle)];

function errorsOf(document: JsonObject): string[] {
  if (validateBundle(document)) return [];
  // oneOf branches (object vs. ${var...} string) each report; the path and message are what matter.
  return (validateBundle.errors ?? []).map((error: ErrorObject) => `${error.instancePath} ${error.message}`);
}

/** All bundle files merged the way the CLI merges includes (disjoint keys here). */
function merged(): JsonObject {
  const resources: Record<string, JsonObject> = {};
  for (const file of bundleFiles) {
    const document = readYaml(file);
    for (const [type, entries] of Object.entries(object(document.resources ?? {}, `${file} resources`))) {
      resources[type] = { ...(resources[type] ?? {}), ...object(entries, `${file} resources.${type}`) };
    }
  }
  return { ...bundle, resources };
}

function referencesIn(value: Json, pattern: RegExp): string[] {
  const text = JSON.stringify(value);
  return [...text.matchAll(pattern)].map((match) => match[1] ?? '');
}

describe('bundle files', () => {
  it('include the resource files', () => {
    expect(bundleFiles).toEqual(['databricks.yml', 'resources/app.yml', 'resources/lakebase.yml']);
  });

  it.each(bundleFiles)('%s is valid under the strict bundle schema', (file) => {
    expect(errorsOf(readYaml(file))).toEqual([]);
  });

  it('reject a misspelt field, a wrong enum value, a wrong type and an unknown top-level key', () => {
    const lakebase = readYaml('resources/lakebase.yml');
    const typo = structuredClone(lakebase);
    const spec = object(
      object(object(object(typo.resources, 'r').synced_database_tables, 's').trips_synced, 't').spec,
      'spec',
    );
    spec.primary_key_column = spec.primary_key_columns ?? null;
    delete spec.primary_key_columns;
    expect(errorsOf(typo).join('\n')).toContain('must NOT have additional properties');

    const policy = structuredClone(lakebase);
    object(
      object(object(object(policy.resources, 'r').synced_database_tables, 's').trips_synced, 't').spec,
      'spec',
    ).scheduling_policy = 'HOURLY';
    expect(errorsOf(policy).join('\n')).toContain('must be equal to one of the allowed values');

    const capacity = structuredClone(lakebase);
    object(object(object(capacity.resources, 'r').database_instances, 'd').trips_db, 'i').capacity = 2;
    expect(errorsOf(capacity).join('\n')).toContain('/resources/database_instances/trips_db/capacity must be string');

    const app = readYaml('resources/app.yml');
    const permission = structuredClone(app);
    const appResources = object(object(object(permission.resources, 'r').apps, 'a').lakebase_graphql, 'app').resources;
    object(object((appResources as Json[])[0] ?? null, 'resource').database, 'db').permission = 'CAN_USE';
    expect(errorsOf(permission).join('\n')).toContain('must be equal to one of the allowed values');

    expect(errorsOf({ ...bundle, resource: {} }).join('\n')).toContain('must NOT have additional properties');
  });
});

describe('bundle content', () => {
  const config = merged();
  const resources = object(config.resources, 'resources');
  const syncedTable = object(object(resources.synced_database_tables, 'synced tables').trips_synced, 'trips_synced');
  const app = object(object(resources.apps, 'apps').lakebase_graphql, 'app');
  const appResources = (app.resources as Json[]).map((entry) => object(entry, 'app resource'));

  it('syncs trips into the synced table by primary key id, with the policy as a variable', () => {
    const spec = object(syncedTable.spec, 'spec');
    expect(spec.source_table_full_name).toBe('${var.catalog}.${var.schema}.trips');
    expect(spec.primary_key_columns).toEqual(['id']);
    expect(spec.scheduling_policy).toBe('${var.sync_policy}');
    expect(syncedTable.database_instance_name).toBe('${resources.database_instances.trips_db.name}');
  });

  it('gives the app the database as a resource with CAN_CONNECT_AND_CREATE', () => {
    const database = appResources.find((entry) => entry.database !== undefined);
    expect(database?.database).toEqual({
      instance_name: '${resources.database_instances.trips_db.name}',
      database_name: '${var.database_name}',
      permission: 'CAN_CONNECT_AND_CREATE',
    });
  });

  it('has dev and prod targets with different capacity and sync policy', () => {
    const targets = object(config.targets, 'targets');
    const dev = object(object(targets.dev, 'dev').variables, 'dev variables');
    const prod = object(object(targets.prod, 'prod').variables, 'prod variables');
    expect(dev.instance_capacity).not.toEqual(prod.instance_capacity);
    expect(dev.sync_policy).not.toEqual(prod.sync_policy);
    for (const policy of [dev.sync_policy, prod.sync_policy]) {
      expect(['SNAPSHOT', 'TRIGGERED', 'CONTINUOUS']).toContain(policy);
    }
  });

  it('declares every variable it uses, and every target sets those without a default', () => {
    const variables = object(config.variables, 'variables');
    const used = new Set(referencesIn(config, /\$\{var\.([\w-]+)\}/g));
    expect([...used].filter((name) => !(name in variables))).toEqual([]);
    const targets = object(config.targets, 'targets');
    for (const [name, target] of Object.entries(targets)) {
      const set = object(object(target, name).variables ?? {}, `${name} variables`);
      const missing = Object.entries(variables)
        .filter(([variable, spec]) => object(spec, variable).default === undefined && !(variable in set))
        .map(([variable]) => variable);
      expect(missing, `target ${name}`).toEqual([]);
    }
  });

  it('refers only to resources it defines', () => {
    for (const reference of referencesIn(config, /\$\{resources\.([\w-]+\.[\w-]+)\.[\w-]+\}/g)) {
      const [type = '', key = ''] = reference.split('.');
      expect(object(resources[type] ?? {}, type)[key], reference).toBeDefined();
    }
  });

  it('app.yaml starts the build output and takes its values from the app resources', () => {
    const appYaml = readYaml('app.yaml');
    const validate = appYamlValidator();
    expect(validate(appYaml) ? [] : validate.errors).toEqual([]);

    const build = JSON.parse(readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8')) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    // The V8 flags production starts with (src/server/fast-paths/README.md), then the build output.
    expect(appYaml.command).toEqual(['node', ...V8_FLAGS, `${build.compilerOptions.outDir}/main.js`]);
    expect(build.compilerOptions.rootDir).toBe('src');
    const packageJson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(packageJson.scripts.build).toContain('tsconfig.build.json');

    const names = new Set(appResources.map((entry) => entry.name));
    const valueFrom = (appYaml.env as Json[]).map((entry) => object(entry, 'env').valueFrom).filter(Boolean);
    expect(valueFrom).toContain('database');
    expect(valueFrom.filter((name) => !names.has(name as string))).toEqual([]);
  });

  it('app.yaml validation itself rejects unknown settings', () => {
    const validate = appYamlValidator();
    expect(validate({ command: ['node', 'dist/main.js'], environment: [] })).toBe(false);
    expect(validate({ env: [{ name: 'PGHOST', value_from: 'database' }] })).toBe(false);
  });
});
