/** docker-compose.yml cannot run here (no Docker engine); this keeps it valid and wired. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SEARCH_ATTRIBUTES } from '../../contracts/search-attributes';

const root = join(__dirname, '..', '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true });
const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<string, string>;
const services = compose.services as Record<string, any>;

test('has every service of the platform', () => {
  expect(Object.keys(services).sort()).toEqual([
    'api',
    'migrate',
    'postgres',
    'temporal',
    'temporal-setup',
    'temporal-ui',
    'worker',
  ]);
});

test('Temporal persists in the same Postgres, and the UI and apps point at Temporal', () => {
  expect(services.temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });
  expect(services.temporal.depends_on.postgres.condition).toBe('service_healthy');
  expect(services['temporal-ui'].environment.TEMPORAL_ADDRESS).toBe('temporal:7233');
  for (const app of ['api', 'worker', 'migrate']) {
    const env = services[app].environment;
    expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(new URL(env.DATABASE_URL).hostname).toBe('postgres');
    expect(new URL(env.DATABASE_URL).username).toBe(services.postgres.environment.POSTGRES_USER);
  }
});

test('apps start after migrations and search attributes, with commands that exist', () => {
  for (const app of ['api', 'worker']) {
    expect(services[app].depends_on.migrate.condition).toBe('service_completed_successfully');
    expect(services[app].depends_on['temporal-setup'].condition).toBe('service_completed_successfully');
  }
  const npmScripts = JSON.stringify([services.api.command, services.worker.command, services.migrate.command]).match(
    /npm run ([\w:-]+)/g,
  )!;
  for (const s of npmScripts) expect(scripts).toHaveProperty(s.replace('npm run ', ''));
  for (const svc of ['api', 'worker', 'migrate']) expect(services[svc].build).toBe('.');
  expect(existsSync(join(root, 'Dockerfile'))).toBe(true);
  const registered = services['temporal-setup'].command.join(' ');
  for (const sa of SEARCH_ATTRIBUTES) expect(registered).toContain(sa.split('=')[0]);
  expect(services.api.ports).toEqual(['3000:3000']);
  expect(services['temporal-ui'].ports).toEqual(['8233:8080']);
  expect(services.api.environment.API_HOST).toBe('0.0.0.0');
});
