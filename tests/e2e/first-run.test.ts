/**
 * The first run on a bare machine, as a newcomer does it: `npm start` on the embedded
 * Postgres from an empty data directory (a clean clone's state), an order placed over
 * HTTP and seen reserved; a start killed hard and the next one reusing what it left;
 * Ctrl-C ending everything without an error line and without a process left behind.
 * Also the start-up failures a person meets first, each with its next step.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { orderBody } from '../helpers/fixtures';
import { eventually, portForLater } from '../helpers/stack';

const ROOT = join(__dirname, '..', '..');
let dataDir: string;
let ports: { api: number; temporal: number; ui: number; postgres: number };

/** The environment of a person's terminal: none of the test stack's variables. */
function freshEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ERP_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...extra };
  for (const name of [
    'DATABASE_URL',
    'TEMPORAL_ADDRESS',
    'TEMPORAL_TASK_QUEUE',
    'TEST_WORKFLOW_BUNDLE',
    'EMBEDDED_POSTGRES',
  ])
    if (!(name in extra)) delete env[name];
  return env;
}

type Run = { child: ChildProcess; output: () => string; exited: Promise<number | string | null> };

function npmStart(args: string[], env = freshEnv()): Run {
  // Its own process group, like a terminal's job: Ctrl-C goes to the whole group.
  const child = spawn('npm', ['start', '--', ...args], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  return { child, output: () => out, exited };
}

const stackArgs = () => [
  '--embedded-postgres',
  '--no-simulator',
  '--port',
  `${ports.api}`,
  '--temporal-port',
  `${ports.temporal}`,
  '--ui-port',
  `${ports.ui}`,
  '--postgres-port',
  `${ports.postgres}`,
];

/** Every process whose command line mentions `needle` (ours: the data directory or the unique port flags). */
function processesWith(needle: string): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) found.push({ pid: Number(entry), cmd });
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

async function running(run: Run): Promise<void> {
  const ready = eventually(
    async () => run.output().includes('ERP process platform is running.'),
    240000,
    'npm start to be ready',
  );
  const died = run.exited.then((code) =>
    Promise.reject(new Error(`npm start exited (${code}) before it was ready:\n${run.output()}`)),
  );
  await Promise.race([ready, died]);
}

async function orderReserved(): Promise<{ status: string; reservations: { sku: string; quantity: number }[] }> {
  const { apiUrl, keys } = JSON.parse(readFileSync(join(dataDir, 'demo-keys.json'), 'utf8')) as {
    apiUrl: string;
    keys: Record<string, string>;
  };
  const headers = { authorization: `Bearer ${keys.storefront}`, 'content-type': 'application/json' };
  const placed = await fetch(`${apiUrl}/v1/orders`, {
    method: 'POST',
    headers,
    body: JSON.stringify(orderBody([{ sku: 'TEE-BLK-M', quantity: 2 }])),
  });
  expect(placed.status).toBe(201);
  const { orderId } = (await placed.json()) as { orderId: string };
  return eventually(
    async () => {
      const o = (await (await fetch(`${apiUrl}/v1/orders/${orderId}`, { headers })).json()) as {
        status: string;
        reservations: { sku: string; quantity: number }[];
      };
      return o.reservations.length > 0 && ['reserved', 'fulfilling'].includes(o.status) ? o : undefined;
    },
    60000,
    'the order to be reserved',
  );
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'erp-first-run-'));
  chmodSync(dataDir, 0o755); // as a project folder is: as root, the embedded Postgres runs as \`postgres\` and must reach it
  ports = {
    api: await portForLater(),
    temporal: await portForLater(),
    ui: await portForLater(),
    postgres: await portForLater(),
  };
});

afterAll(async () => {
  for (const p of [...processesWith(dataDir), ...processesWith(`--postgres-port ${ports.postgres}`)]) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
});

test('npm start on the embedded Postgres: an order reserved, a hard kill survived, Ctrl-C leaves nothing behind', async () => {
  const first = npmStart(stackArgs());
  await running(first);
  expect(first.output()).toContain('Creating the embedded Postgres cluster');
  const order = await orderReserved();
  expect(order.reservations).toEqual([expect.objectContaining({ sku: 'TEE-BLK-M', quantity: 2 })]);
  expect(['reserved', 'fulfilling']).toContain(order.status);

  // Killed hard (kill -9 of npm and node, as an OOM killer or a crashed terminal would): the dev server and Postgres stay.
  for (const p of processesWith(`--postgres-port ${ports.postgres}`)) process.kill(p.pid, 'SIGKILL');
  await first.exited;
  expect(processesWith(dataDir).length).toBeGreaterThanOrEqual(2);

  const second = npmStart(stackArgs());
  await running(second);
  expect(second.output()).toMatch(/Reusing the embedded Postgres \(pid \d+\)/);
  expect(second.output()).toMatch(/Reusing the Temporal dev server \(pid \d+\)/);
  expect(second.output()).not.toContain('Creating the embedded Postgres cluster'); // its data survived
  expect((await orderReserved()).reservations).toHaveLength(1);

  process.kill(-second.child.pid!, 'SIGINT'); // Ctrl-C
  // npm passes Ctrl-C on and then ends by the same signal, as it does in a terminal; the start itself prints no error.
  expect([0, 'SIGINT']).toContain(await second.exited);
  const afterCtrlC = second.output().slice(second.output().indexOf('Stopping...'));
  expect(afterCtrlC).not.toMatch(/fail|error/i);
  await eventually(
    async () => processesWith(dataDir).length === 0,
    15000,
    `no process left: ${JSON.stringify(processesWith(dataDir))}`,
  );
}, 600000);

test('start-up failures say what went wrong and what to do next', async () => {
  const apiPort = await portForLater(); // not the stack's: it may still be stopping
  const refused = npmStart(
    ['--port', `${apiPort}`],
    freshEnv({ DATABASE_URL: `postgres://postgres@127.0.0.1:${await portForLater()}/erp` }),
  );
  expect(await refused.exited).toBe(1);
  expect(refused.output()).toMatch(
    /refused the connection \(ECONNREFUSED\)\.\nNext step: Start Postgres, fix DATABASE_URL/,
  );

  const blocker = await new Promise<import('node:net').Server>((resolve) => {
    const srv = require('node:net').createServer();
    srv.listen(apiPort, '127.0.0.1', () => resolve(srv));
  });
  try {
    const taken = npmStart(['--port', `${apiPort}`]);
    expect(await taken.exited).toBe(1);
    expect(taken.output()).toContain(`Port ${apiPort} for the API is taken by another program.`);
    expect(taken.output()).toContain(`npm start -- --port ${apiPort + 1}`);
  } finally {
    blocker.close();
  }

  const unknown = npmStart(['--orders', '3']);
  expect(await unknown.exited).toBe(2);
  expect(unknown.output()).toContain("Unknown option '--orders'");
});
