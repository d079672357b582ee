/**
 * Builds the console (vite) into console/dist, for `npm start` and the tests: a clean clone's first start
 * serves it with no extra step. Skipped when the build is newer than every source file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const CONSOLE = join(ROOT, 'console');

function newest(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((t, e) => {
    const p = join(dir, e.name);
    return Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, 0);
}

export function buildConsole(log: (line: string) => void = () => undefined): void {
  const page = join(CONSOLE, 'dist', 'index.html');
  const sources = Math.max(newest(join(CONSOLE, 'src')), statSync(join(CONSOLE, 'index.html')).mtimeMs);
  if (existsSync(page) && statSync(page).mtimeMs >= sources) return;
  log('Building the console (vite)...');
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  execFileSync(process.execPath, [vite, 'build', '--config', join(CONSOLE, 'vite.config.ts'), '--logLevel', 'warn'], {
    cwd: ROOT,
    // Always the production bundle: under jest NODE_ENV is "test", and the preset would add Preact's debug tools.
    env: { ...process.env, NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

if (require.main === module) buildConsole(console.log);
