/**
 * docker-compose.yml cannot run here (no Docker engine). This keeps it valid against the Compose
 * Specification's JSON schema (deploy/compose-spec.json, from github.com/compose-spec/compose-spec,
 * Apache-2.0), wired in the right order, and runs its Temporal set-up script for real: the same `temporal`
 * CLI the admin-tools image ships, against this run's Temporal server.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Ajv from 'ajv';
import draft7 from 'ajv/dist/refs/json-schema-draft-07.json';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../../contracts/search-attributes';
import { findTemporalBinary } from '../../lib/temporal-dev-server';

const root = join(__dirname, '..', '..');
const text = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
const compose = parse(text, { merge: true });
const services = compose.services as Record<string, any>;
const APPS = ['migrate', 'seed', 'worker', 'api', 'simulator'];

test('valid against the Compose Specification schema', () => {
  const ajv = new Ajv({ allErrors: true, strict: false });
  // The spec names draft-07 by its https address; Ajv knows it by the http one.
  ajv.addMetaSchema({ ...draft7, $id: 'https://json-schema.org/draft-07/schema' });
  const validate = ajv.compile(JSON.parse(readFileSync(join(root, 'deploy', 'compose-spec.json'), 'utf8')));
  const valid = validate(compose); // YAML merge keys resolved, as Compose reads the file
  expect(validate.errors ?? []).toEqual([]);
  expect(valid).toBe(true);
});

test('Temporal from temporalio/server, its schema and namespace by admin-tools jobs (no auto-setup)', () => {
  expect(text).not.toContain('auto-setup');
  expect(services.temporal.image).toMatch(/^temporalio\/server:/);
  expect(services.temporal.depends_on['temporal-schema'].condition).toBe('service_completed_successfully');
  expect(services['temporal-schema'].image).toMatch(/^temporalio\/admin-tools:/);
  expect(services['temporal-setup'].depends_on.temporal.condition).toBe('service_healthy');
  expect(services.temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });
  for (const job of ['temporal-schema', 'temporal-setup']) {
    const script = services[job].entrypoint[1].replace('/deploy/', 'deploy/temporal/');
    expect(existsSync(join(root, script))).toBe(true);
  }
  // Every search attribute the processes write, with its type.
  expect(services['temporal-setup'].environment.SEARCH_ATTRIBUTES.split(' ').sort()).toEqual(
    [...SEARCH_ATTRIBUTES].sort(),
  );
});

test('one image for every app, node as PID 1 on compiled modules that exist, started in order', () => {
  for (const app of APPS) {
    expect(services[app].image).toBe('erp-platform:local');
    expect(services[app].build).toBe('.');
    const [bin, file] = services[app].command;
    expect(bin).toBe('node');
    expect(existsSync(join(root, file.replace(/\.js$/, '.ts')))).toBe(true); // compiled to the same path
  }
  for (const app of ['api', 'worker']) {
    expect(services[app].depends_on.migrate.condition).toBe('service_completed_successfully');
    expect(services[app].depends_on['temporal-setup'].condition).toBe('service_completed_successfully');
  }
  expect(services.seed.profiles).toEqual(['demo']);
  expect(services.simulator.profiles).toEqual(['simulator']);
  expect(services.simulator.environment.ERP_API_URL).toBe('http://api:3000');
  for (const app of ['api', 'worker', 'migrate']) {
    const env = services[app].environment;
    expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(new URL(env.DATABASE_URL).hostname).toBe('postgres');
  }
  expect(services.api.ports).toEqual(['3000:3000']);
  expect(services.api.environment.API_HOST).toBe('0.0.0.0');
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  expect(dockerfile).toMatch(/^FROM node:22-/m);
  expect(dockerfile).toContain('WORKFLOW_BUNDLE=');
  expect(dockerfile).toContain('npm run build');
  expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.build).toContain('tsconfig.build.json');
});

test('the namespace set-up job creates the namespace and every search attribute, and says so only then', () => {
  const binary = findTemporalBinary()!;
  const namespace = `compose-${randomUUID().slice(0, 8)}`;
  const run = () =>
    execFileSync('sh', [join(root, 'deploy', 'temporal', 'setup-namespace.sh')], {
      encoding: 'utf8',
      env: {
        ...process.env,
        PATH: `${dirname(binary)}:${process.env.PATH}`,
        TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS!,
        TEMPORAL_NAMESPACE: namespace,
        SEARCH_ATTRIBUTES: services['temporal-setup'].environment.SEARCH_ATTRIBUTES,
      },
    });
  expect(run()).toContain(`namespace ${namespace} and search attributes ready`);
  const listed = execFileSync(
    binary,
    ['operator', 'search-attribute', 'list', '--namespace', namespace, '--address', process.env.TEMPORAL_ADDRESS!],
    { encoding: 'utf8' },
  );
  for (const sa of SEARCH_ATTRIBUTES) expect(listed).toContain(sa.split('=')[0]);
  expect(run()).toContain('ready'); // a second `docker compose up` finds everything there
});
