/**
 * Determinism guard: every committed history (tests/fixtures/histories, recorded
 * with `npm run record:histories`) is replayed against the current workflow
 * code. A change that would break running workflows fails here; put such a
 * change behind `patched()`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { installRuntime } from '../../lib/temporal-runtime';
import { dataConverter } from '../../lib/payload-codec';
import { loadConfig } from '../../lib/config';

const dir = join(__dirname, '..', 'fixtures', 'histories');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

test('there are recorded histories of every workflow type', async () => {
  const types = new Set(files.map((f) => f.split('-')[0]));
  const workflowTypes = Object.keys(await import('../../workflows'));
  expect([...types].sort()).toEqual(expect.arrayContaining(workflowTypes.sort()));
  expect(files.length).toBeGreaterThanOrEqual(10);
});

test('every recorded history replays against the current code', async () => {
  installRuntime('warn');
  const histories = files.map((f) => ({
    workflowId: f,
    history: historyFromJSON(JSON.parse(readFileSync(join(dir, f), 'utf8'))),
  }));
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories(
    // Histories recorded since payloads are encrypted need the suite's key; older ones are in clear and pass through.
    {
      workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! },
      dataConverter: dataConverter(loadConfig(process.env)),
    },
    histories,
  )) {
    replayed++;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
  expect(replayed).toBe(files.length);
});
