/**
 * Every script's flags go through lib/cli.ts: both spellings of a value, --help, and a refusal (exit 2, with
 * what to do) for an unknown flag or a number that is not one. Run as a user would, as a child process.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cliFlags } from '../../lib/cli';

const SPEC = {
  orders: { type: 'number', default: 40, help: 'orders' },
  only: { type: 'string', help: 'names' },
  keep: { type: 'boolean', help: 'keep it' },
} as const;

test('--orders=10 and --orders 10 are the same; defaults fill the rest', () => {
  expect(cliFlags('x', SPEC, { argv: ['--orders=10'] })).toMatchObject({
    orders: 10,
    only: undefined,
    keep: undefined,
  });
  expect(cliFlags('x', SPEC, { argv: ['--orders', '10', '--keep', '--only=a,b'] })).toMatchObject({
    orders: 10,
    keep: true,
    only: 'a,b',
  });
  expect(cliFlags('x', SPEC, { argv: [] }).orders).toBe(40);
});

const run = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '..', '..', 'scripts', 'demo.ts'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, LOG_LEVEL: 'silent' },
  });

test('a script refuses an unknown flag and a bad number, and explains its flags on --help', () => {
  const typo = run('--ordrs', '5');
  expect(typo.status).toBe(2);
  expect(typo.stderr).toContain("Unknown option '--ordrs'");
  expect(typo.stderr).toContain('--help');
  const notNumber = run('--orders=many');
  expect(notNumber.status).toBe(2);
  expect(notNumber.stderr).toContain('--orders must be a number, not "many"');
  const help = run('--help');
  expect(help.status).toBe(0);
  expect(help.stdout).toContain('Usage: npm run demo');
  expect(help.stdout).toMatch(/--orders <number>\s+orders to place \(default 40\)/);
});
