/**
 * Finds the official `temporal` CLI and runs its dev server (real Temporal,
 * SQLite persistence). Search order, as documented in the README:
 *   1. TEMPORAL_BINARY from the environment
 *   2. `temporal` on PATH
 *   3. the cached build in ~/.cache/erp-platform/bin (shared by every clone)
 *   4. a build with Go into that cache (a few minutes, once)
 * With none of these, the caller may fall back to @temporalio/testing's own download.
 */
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { SEARCH_ATTRIBUTES } from '../contracts/search-attributes';

export const TEMPORAL_CLI_VERSION = 'v1.5.1'; // later tags carry a replace directive and refuse `go install`
export const CACHE_DIR = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'erp-platform', 'bin');

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Returns the path of a usable `temporal` binary, building it with Go when allowed; undefined when none can be had. */
export function findTemporalBinary(opts: { build?: boolean; log?: (line: string) => void } = {}): string | undefined {
  const log = opts.log ?? ((line: string) => console.error(line));
  const explicit = process.env.TEMPORAL_BINARY;
  if (explicit) {
    if (!existsSync(explicit))
      throw new Error(`TEMPORAL_BINARY=${explicit} does not exist; unset it or point it at the temporal CLI`);
    return explicit;
  }
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  const cached = join(CACHE_DIR, 'temporal');
  if (existsSync(cached)) return cached;
  if (opts.build === false || !onPath('go')) return undefined;
  mkdirSync(CACHE_DIR, { recursive: true });
  log(
    `Building the temporal CLI ${TEMPORAL_CLI_VERSION} with Go into ${CACHE_DIR} (first time only, a few minutes)...`,
  );
  const built = spawnSync('go', ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
    env: { ...process.env, GOBIN: CACHE_DIR, GOFLAGS: '-mod=mod' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (built.status !== 0 || !existsSync(cached))
    throw new Error('Building the temporal CLI with Go failed; set TEMPORAL_BINARY to an installed temporal CLI');
  return cached;
}

export interface DevServerOptions {
  port: number;
  uiPort?: number; // omitted: headless
  dbFilename?: string; // omitted: in memory
  ip?: string;
  /** Its stderr goes here rather than to a pipe: a server that outlives its parent must not die writing to a closed pipe. */
  logFile?: string;
  /** In a process group of its own: Ctrl-C in the terminal does not stop it before the worker that talks to it. */
  ownGroup?: boolean;
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function devServerArgs(o: DevServerOptions): string[] {
  const args = ['server', 'start-dev', '--ip', o.ip ?? '127.0.0.1', '--port', String(o.port), '--log-level', 'error'];
  args.push(...(o.uiPort ? ['--ui-port', String(o.uiPort)] : ['--headless']));
  if (o.dbFilename) args.push('--db-filename', o.dbFilename);
  // The SQLite store is the bottleneck on small machines; the SDK's own stress CI runs it this way.
  args.push('--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=OFF');
  for (const sa of SEARCH_ATTRIBUTES) args.push('--search-attribute', sa);
  return args;
}

export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host, port }, () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Nothing listens on ${host}:${port} after ${timeoutMs} ms`);
}

/** Starts the dev server as a child process and waits until its frontend accepts connections. */
export async function startDevServer(binary: string, o: DevServerOptions): Promise<DevServer> {
  const logFd = o.logFile ? openSync(o.logFile, 'a') : undefined;
  const child = spawn(binary, devServerArgs(o), {
    stdio: ['ignore', 'ignore', logFd ?? 'pipe'],
    detached: o.ownGroup ?? false,
  });
  if (logFd !== undefined) closeSync(logFd);
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(0, 2000))); // the head says why (a Go panic's first line)
  const why = () => (o.logFile ? readFileSync(o.logFile, 'utf8').slice(-2000) : stderr);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`temporal dev server exited (${code}): ${why()}`))),
  );
  await Promise.race([waitForPort(o.ip ?? '127.0.0.1', o.port, 60000), exited]);
  exited.catch(() => undefined);
  return {
    address: `${o.ip ?? '127.0.0.1'}:${o.port}`,
    uiUrl: o.uiPort ? `http://${o.ip ?? '127.0.0.1'}:${o.uiPort}` : undefined,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/**
 * Starts a dev server on free ports, retrying with fresh ones: the server binds
 * more ports than the frontend's, and one of those can be taken in between.
 */
export async function startDevServerOnFreePorts(
  binary: string,
  o: Omit<DevServerOptions, 'port'>,
  attempts = 3,
): Promise<DevServer> {
  for (let i = 1; ; i++) {
    try {
      return await startDevServer(binary, { ...o, port: await freePort() });
    } catch (err) {
      if (i >= attempts) throw err;
      console.error(
        `temporal dev server failed to start (attempt ${i}); retrying on other ports: ${(err as Error).message.split('\n')[0]}`,
      );
    }
  }
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
