/**
 * The Asset Bundle against the published bundle JSON Schema, strictly: unknown
 * or mistyped fields fail. Both variants: Lakebase Autoscaling (databricks.yml
 * as committed: resources/*.yml, jobs/*.yml) and Lakebase Provisioned (the same
 * with provisioned/*.yml instead of resources/*.yml). Plus app.yaml against the
 * documented app.yaml settings, the jobs' notebooks, and the references between files.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { V8_FLAGS } from '../src/server/fast-paths/v8-flags.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The shared schema sits beside the main checkout (../shared) or, from a worktree under wt/, two levels up.
const schemaPath =
  ['../shared', '../../shared']
    .map((dir) => path.resolve(root, dir, 'databricks/bundle-schema.json'))
    .find((candidate) => existsSync(candidate)) ?? path.resolve(root, '../shared/databricks/bundle-schema.json');

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
  return includePatterns(include.map(String));
}

function includePatterns(include: string[]): string[] {
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
/** The documented Provisioned variant: provisioned/*.yml in place of resources/*.yml. */
const provisionedInclude = (bundle.include as string[]).map((pattern) =>
  pattern === 'resources/*.yml' ? 'provisioned/*.yml' : pattern,
);
const provisionedFiles = ['databricks.yml', ...includePatterns(provisionedInclude)];

function errorsOf(document: JsonObject): string[] {
  if (validateBundle(document)) return [];
  // oneOf branches (object vs. ${var...} string) each report; the path and message are what matter.
  return (validateBundle.errors ?? []).map((error: ErrorObject) => `${error.instancePath} ${error.message}`);
}

/** All bundle files merged the way the CLI merges includes (disjoint keys here). */
function merged(files = bundleFiles): JsonObject {
  const resources: Record<string, JsonObject> = {};
  for (const file of files) {
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
  it('include the Autoscaling resources and the jobs; the Provisioned variant swaps only the resources', () => {
    expect(bundleFiles).toEqual([
      'databricks.yml',
      'resources/app.yml',
      'resources/lakebase.yml',
      'jobs/source-table.yml',
    ]);
    expect(provisionedFiles).toEqual([
      'databricks.yml',
      'provisioned/app.yml',
      'provisioned/lakebase.yml',
      'jobs/source-table.yml',
    ]);
  });

  it.each([...new Set([...bundleFiles, ...provisionedFiles])])('%s is valid under the strict bundle schema', (file) => {
    expect(errorsOf(readYaml(file))).toEqual([]);
  });

  it('the Provisioned variant as one document is valid too', () => {
    expect(errorsOf({ ...merged(provisionedFiles), include: provisionedInclude })).toEqual([]);
    expect(errorsOf(merged())).toEqual([]);
  });

  it('reject misspelt fields, wrong enum values and wrong types in the Autoscaling resources', () => {
    const lakebase = readYaml('resources/lakebase.yml');
    const at = (document: JsonObject, type: string, key: string) =>
      object(object(object(document.resources, 'r')[type], type)[key], key);

    const typo = structuredClone(lakebase);
    const synced = at(typo, 'postgres_synced_tables', 'trips_synced');
    synced.primary_key_column = synced.primary_key_columns ?? null;
    delete synced.primary_key_columns;
    expect(errorsOf(typo).join('\n')).toContain('must NOT have additional properties');

    const policy = structuredClone(lakebase);
    at(policy, 'postgres_synced_tables', 'trips_synced').scheduling_policy = 'HOURLY';
    expect(errorsOf(policy).join('\n')).toContain('must be equal to one of the allowed values');

    const endpoint = structuredClone(lakebase);
    at(endpoint, 'postgres_endpoints', 'primary').endpoint_type = 'READ_WRITE';
    expect(errorsOf(endpoint).join('\n')).toContain('must be equal to one of the allowed values');

    const missing = structuredClone(lakebase);
    delete at(missing, 'postgres_databases', 'trips').role;
    expect(errorsOf(missing).join('\n')).toContain("must have required property 'role'");

    const app = readYaml('resources/app.yml');
    const permission = structuredClone(app);
    const appResources = at(permission, 'apps', 'lakebase_graphql').resources as Json[];
    object(object(appResources[0] ?? null, 'resource').postgres, 'pg').permission = 'CAN_USE';
    expect(errorsOf(permission).join('\n')).toContain('must be equal to one of the allowed values');

    const camel = structuredClone(app);
    const env = object(at(camel, 'apps', 'lakebase_graphql').config, 'config').env as Json[];
    const first = object(env[0] ?? null, 'env');
    first.valueFrom = first.value_from ?? null;
    delete first.value_from;
    expect(errorsOf(camel).join('\n')).toContain('must NOT have additional properties');
  });

  it('reject a misspelt field, a wrong enum value, a wrong type and an unknown top-level key (Provisioned)', () => {
    const lakebase = readYaml('provisioned/lakebase.yml');
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

    const instance = structuredClone(lakebase);
    object(object(instance.resources, 'r').synced_database_tables, 's').trips_synced = {
      ...object(object(object(instance.resources, 'r').synced_database_tables, 's').trips_synced, 't'),
      database_instance_name: 7,
    };
    expect(errorsOf(instance).join('\n')).toContain('/database_instance_name must be string');

    const app = readYaml('provisioned/app.yml');
    const permission = structuredClone(app);
    const appResources = object(object(object(permission.resources, 'r').apps, 'a').lakebase_graphql, 'app').resources;
    object(object((appResources as Json[])[0] ?? null, 'resource').database, 'db').permission = 'CAN_USE';
    expect(errorsOf(permission).join('\n')).toContain('must be equal to one of the allowed values');

    expect(errorsOf({ ...bundle, resource: {} }).join('\n')).toContain('must NOT have additional properties');
  });
});

const variants = [
  { name: 'Autoscaling', files: bundleFiles },
  { name: 'Provisioned', files: provisionedFiles },
] as const;

function appOf(config: JsonObject) {
  const app = object(object(object(config.resources, 'resources').apps, 'apps').lakebase_graphql, 'app');
  const appResources = (app.resources as Json[]).map((entry) => object(entry, 'app resource'));
  return { app, appResources };
}

describe('bundle content (Autoscaling, the default)', () => {
  const config = merged();
  const resources = object(config.resources, 'resources');
  const at = (type: string, key: string) => object(object(resources[type], type)[key], `${type}.${key}`);
  const { app, appResources } = appOf(config);

  it('syncs trips into the synced table on the project’s branch by primary key id, with the policy as a variable', () => {
    const synced = at('postgres_synced_tables', 'trips_synced');
    expect(synced).toMatchObject({
      synced_table_id: '${var.catalog}.${var.schema}.trips_synced',
      branch: '${resources.postgres_branches.production.id}',
      // A reference to the database resource, so that the CLI creates the database (owned by the owner role) first.
      postgres_database: '${resources.postgres_databases.trips.postgres_database}',
      source_table_full_name: '${var.catalog}.${var.schema}.trips',
      primary_key_columns: ['id'],
      scheduling_policy: '${var.sync_policy}',
    });
    expect(at('postgres_branches', 'production').parent).toBe('${resources.postgres_projects.trips.id}');
    expect(at('postgres_databases', 'trips')).toMatchObject({
      parent: '${resources.postgres_branches.production.id}',
      role: '${resources.postgres_roles.owner.id}',
      postgres_database: '${var.database_name}',
    });
    expect(at('postgres_endpoints', 'primary').endpoint_type).toBe('ENDPOINT_TYPE_READ_WRITE');
    expect(resources.database_instances).toBeUndefined();
    expect(resources.synced_database_tables).toBeUndefined();
  });

  it('gives the app the branch and database as a postgres resource with CAN_CONNECT_AND_CREATE', () => {
    const postgres = appResources.find((entry) => entry.postgres !== undefined);
    expect(postgres?.postgres).toEqual({
      branch: '${resources.postgres_branches.production.id}',
      database: '${resources.postgres_databases.trips.id}',
      permission: 'CAN_CONNECT_AND_CREATE',
    });
    expect(appResources.some((entry) => entry.database !== undefined)).toBe(false);
  });

  it('app config: the start command of app.yaml, LAKEBASE_ENDPOINT from the postgres resource, per-target values', () => {
    const appConfig = object(app.config, 'config');
    expect(appConfig.command).toEqual(readYaml('app.yaml').command);
    const env = Object.fromEntries(
      (appConfig.env as Json[]).map((entry) => {
        const { name, ...rest } = object(entry, 'env');
        return [String(name), rest];
      }),
    );
    expect(env.LAKEBASE_ENDPOINT).toEqual({ value_from: 'postgres' });
    expect(env.SYNCED_TABLE_NAME).toEqual({ value: '${var.catalog}.${var.schema}.trips_synced' });
    expect(env.GATEWAY_ADMIN_TOKEN).toEqual({ value_from: 'admin-token' });
    const names = new Set(appResources.map((entry) => entry.name));
    for (const [name, value] of Object.entries(env)) {
      if (value.value_from !== undefined) expect(names.has(value.value_from as string), name).toBe(true);
    }
    const targets = object(config.targets, 'targets');
    const dev = object(object(targets.dev, 'dev').variables, 'dev');
    const prod = object(object(targets.prod, 'prod').variables, 'prod');
    expect(dev.log_level).not.toEqual(prod.log_level);
    expect(dev.max_cu).not.toEqual(prod.max_cu);
  });

  it('app.yaml takes LAKEBASE_ENDPOINT from the postgres resource (valueFrom)', () => {
    const appYaml = readYaml('app.yaml');
    const env = (appYaml.env as Json[]).map((entry) => object(entry, 'env'));
    expect(env.find((entry) => entry.name === 'LAKEBASE_ENDPOINT')).toEqual({
      name: 'LAKEBASE_ENDPOINT',
      valueFrom: 'postgres',
    });
  });
});

describe('bundle content (Provisioned alternative)', () => {
  const config = merged(provisionedFiles);
  const resources = object(config.resources, 'resources');
  const syncedTable = object(object(resources.synced_database_tables, 'synced tables').trips_synced, 'trips_synced');
  const { appResources } = appOf(config);

  it('syncs trips into the synced table by primary key id, with the policy as a variable', () => {
    const spec = object(syncedTable.spec, 'spec');
    expect(spec.source_table_full_name).toBe('${var.catalog}.${var.schema}.trips');
    expect(spec.primary_key_columns).toEqual(['id']);
    expect(spec.scheduling_policy).toBe('${var.sync_policy}');
    // An existing instance, by name: a new one would be created as an Autoscaling project (since March 2026).
    expect(syncedTable.database_instance_name).toBe('${var.instance_name}');
    expect(resources.database_instances).toBeUndefined();
    expect(resources.postgres_projects).toBeUndefined();
  });

  it('gives the app the database as a resource with CAN_CONNECT_AND_CREATE', () => {
    const database = appResources.find((entry) => entry.database !== undefined);
    expect(database?.database).toEqual({
      instance_name: '${var.instance_name}',
      database_name: '${var.database_name}',
      permission: 'CAN_CONNECT_AND_CREATE',
    });
  });
});

describe.each(variants)('bundle content, both variants: $name', ({ files }) => {
  const config = merged(files);
  const resources = object(config.resources, 'resources');

  it('has dev and prod targets with different capacity and sync policy', () => {
    const targets = object(config.targets, 'targets');
    const dev = object(object(targets.dev, 'dev').variables, 'dev variables');
    const prod = object(object(targets.prod, 'prod').variables, 'prod variables');
    expect(dev.instance_name).not.toEqual(prod.instance_name);
    expect(dev.max_cu).not.toEqual(prod.max_cu);
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
    const references = referencesIn(config, /\$\{resources\.([\w-]+\.[\w-]+)\.[\w-]+\}/g);
    expect(references.length).toBeGreaterThan(0);
    for (const reference of references) {
      const [type = '', key = ''] = reference.split('.');
      expect(object(resources[type] ?? {}, type)[key], reference).toBeDefined();
    }
  });

  it('app config env names exist, and its value_from entries name app resources', () => {
    const { app, appResources } = appOf(config);
    const names = new Set(appResources.map((entry) => entry.name));
    for (const entry of object(app.config, 'config').env as Json[]) {
      const env = object(entry, 'env');
      expect(String(env.name)).toMatch(/^[A-Z_][A-Z0-9_]*$/);
      if (env.value_from !== undefined) expect(names.has(env.value_from as string), String(env.name)).toBe(true);
    }
  });

  it('has the jobs that create the source table and insert trips, each running a SQL notebook of the bundle', () => {
    const jobs = object(resources.jobs, 'jobs');
    expect(Object.keys(jobs).sort()).toEqual(['create_source_table', 'insert_trips']);
    for (const [key, job] of Object.entries(jobs)) {
      const definition = object(job, key);
      const parameters = (definition.parameters as Json[]).map((entry) => String(object(entry, 'p').name));
      for (const task of definition.tasks as Json[]) {
        const notebook = object(object(task, 'task').notebook_task, 'notebook_task');
        const file = path.join(root, 'jobs', String(notebook.notebook_path));
        const text = readFileSync(file, 'utf8');
        // The header makes the workspace import the .sql file as a notebook.
        expect(text.split('\n')[0]).toBe('-- Databricks notebook source');
        // Every :name parameter marker is a job parameter (job parameters reach the notebook as widgets).
        const markers = new Set([...text.replace(/--.*$/gm, '').matchAll(/(?<![:\w]):([a-z_]+)\b/g)].map((m) => m[1]));
        expect(
          [...markers].filter((marker) => !parameters.includes(String(marker))),
          file,
        ).toEqual([]);
        expect(markers.size).toBeGreaterThan(0);
      }
    }
  });
});

describe('jobs', () => {
  const create = readFileSync(path.join(root, 'jobs/create_source_table.sql'), 'utf8');
  const insert = readFileSync(path.join(root, 'jobs/insert_trips.sql'), 'utf8');

  it('create the source table idempotently from samples.nyctaxi.trips, with a unique id and the change data feed', () => {
    expect(create).toMatch(/CREATE TABLE IF NOT EXISTS IDENTIFIER\(:catalog \|\| '\.' \|\| :schema \|\| '\.trips'\)/);
    expect(create).toContain('FROM samples.nyctaxi.trips');
    expect(create).toMatch(/row_number\(\) OVER/);
    expect(create).toMatch(/SET TBLPROPERTIES \(delta\.enableChangeDataFeed = true\)/);
    expect(create).toContain('ALTER COLUMN id SET NOT NULL');
  });

  it('insert count trips with ids after the largest, one run at a time', () => {
    expect(insert).toContain('coalesce(max(id), 0)');
    expect(insert).toContain('n <= CAST(:count AS INT)');
    const jobs = object(object(merged().resources, 'r').jobs, 'jobs');
    expect(object(jobs.insert_trips, 'insert').max_concurrent_runs).toBe(1);
  });
});

describe('app.yaml', () => {
  const config = merged();
  const { appResources } = appOf(config);

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
    expect(valueFrom).toContain('postgres');
    expect(valueFrom.filter((name) => !names.has(name as string))).toEqual([]);
  });

  it('app.yaml validation itself rejects unknown settings', () => {
    const validate = appYamlValidator();
    expect(validate({ command: ['node', 'dist/main.js'], environment: [] })).toBe(false);
    expect(validate({ env: [{ name: 'PGHOST', value_from: 'database' }] })).toBe(false);
  });
});
