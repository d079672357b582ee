/**
 * The Temporal server of `npm start`: TEMPORAL_ADDRESS if set; else the dev server a
 * killed start left running (found through `.data/processes.json`); else a new dev
 * server (the CLI found or built as the README says, or the SDK's download).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findTemporalBinary, startDevServer } from '../../lib/temporal-dev-server';
import {
  ChannelKey,
  CustomerEmailKey,
  CustomerIdKey,
  OrderIdKey,
  OrderStageKey,
} from '../../contracts/search-attributes';
import { describe, StartError } from './errors';
import { listening, requireFree } from './ports';

export interface TemporalChoice {
  address: string;
  ui?: string;
  stop(): Promise<void>;
}

type Recorded = { pid: number; port: number; uiPort: number; dbFilename: string };

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const commandLine = (pid: number) =>
  existsSync(`/proc/${pid}`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0') : [];

/** Stops a process that is not our child: SIGTERM, then SIGKILL after 5 s. */
async function stopPid(pid: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; alive(pid) && waited < 5000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

/** The dev server an earlier start recorded, if it still runs with our store (a pid can be reused by another program). */
function leftover(file: string, dbFilename: string): Recorded | undefined {
  if (!existsSync(file)) return undefined;
  const recorded = (JSON.parse(readFileSync(file, 'utf8')) as { temporal?: Recorded }).temporal;
  if (!recorded || !alive(recorded.pid)) return undefined;
  const cmd = commandLine(recorded.pid);
  // On a system without /proc we cannot tell: trust the record only when the command line is readable.
  return cmd.includes('start-dev') && cmd.includes(dbFilename) ? recorded : undefined;
}

export async function chooseTemporal(o: {
  dataDir: string;
  port: number;
  uiPort: number;
  log: (line: string) => void;
}): Promise<TemporalChoice> {
  const none = async () => undefined;
  const given = process.env.TEMPORAL_ADDRESS;
  if (given) {
    const [host, p] = [given.slice(0, given.lastIndexOf(':')), Number(given.slice(given.lastIndexOf(':') + 1))];
    if (!(await listening(host, p)))
      throw new StartError(
        `Nothing answers at TEMPORAL_ADDRESS=${given}.`,
        'Start that Temporal server, or unset TEMPORAL_ADDRESS and `npm start` runs a dev server of its own.',
      );
    return { address: given, stop: none };
  }
  const dbFilename = join(o.dataDir, 'temporal.db');
  const file = join(o.dataDir, 'processes.json');
  const left = leftover(file, dbFilename);
  if (left) {
    o.log(`Reusing the Temporal dev server (pid ${left.pid}) that a previous start left running on :${left.port}`);
    return {
      address: `127.0.0.1:${left.port}`,
      ui: `http://127.0.0.1:${left.uiPort}`,
      stop: () => stopPid(left.pid).then(() => rmSync(file, { force: true })),
    };
  }
  if (await listening('127.0.0.1', o.port)) {
    o.log(
      `A Temporal server that this start did not launch listens on 127.0.0.1:${o.port}; using it and leaving it running (it needs our search attributes)`,
    );
    return { address: `127.0.0.1:${o.port}`, ui: `http://127.0.0.1:${o.uiPort}`, stop: none };
  }
  await requireFree(o.uiPort, 'the Temporal UI', '--ui-port');
  const binary = findTemporalBinary({ log: o.log });
  if (!binary) return downloadDevServer(o, dbFilename);
  const server = await startDevServer(binary, {
    port: o.port,
    uiPort: o.uiPort,
    dbFilename,
    logFile: join(o.dataDir, 'temporal.log'),
    ownGroup: true,
  });
  const pid = server.process.pid ?? 0;
  writeFileSync(file, JSON.stringify({ temporal: { pid, port: o.port, uiPort: o.uiPort, dbFilename } }, null, 2));
  return {
    address: server.address,
    ui: server.uiUrl,
    stop: () => server.stop().then(() => rmSync(file, { force: true })),
  };
}

/** Neither a CLI nor Go: the SDK downloads a dev server, which needs the internet. */
async function downloadDevServer(
  o: { port: number; uiPort: number; log: (line: string) => void },
  dbFilename: string,
): Promise<TemporalChoice> {
  o.log('No temporal CLI and no Go: downloading the dev server through @temporalio/testing');
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  try {
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        ip: '127.0.0.1',
        port: o.port,
        ui: true,
        uiPort: o.uiPort,
        dbFilename,
        searchAttributes: [OrderIdKey, ChannelKey, CustomerEmailKey, CustomerIdKey, OrderStageKey],
        extraArgs: ['--sqlite-pragma', 'journal_mode=WAL'],
      },
    });
    return { address: `127.0.0.1:${o.port}`, ui: `http://127.0.0.1:${o.uiPort}`, stop: () => env.teardown() };
  } catch (err) {
    throw new StartError(
      `No Temporal server: there is no \`temporal\` CLI on PATH or in ~/.cache/erp-platform/bin, no Go to build one, and the SDK's download failed (${describe(err)}).`,
      'Install Go 1.22+ (the first start builds the CLI, a few minutes) or the temporal CLI (set TEMPORAL_BINARY), or set TEMPORAL_ADDRESS to a running Temporal server.',
    );
  }
}
