/**
 * The fault drills at a small size (the full ones: `npm run drill`): the
 * worker killed with SIGKILL mid-load and restarted, one of two workers lost,
 * the Temporal server killed and restarted, the API killed mid-burst, and
 * sandbox providers that time out before or after acting. Every process
 * finishes, nothing happens twice, the books hold.
 */
import { withFaults, InjectedFault } from '../../activities/faults';
import { formatReport, runDrill } from '../../scripts/drill';

const SMALL = { orders: 12, returns: 4, purchases: 4 };

test('fault injection: before the provider, slow, and after it acted (the answer lost)', async () => {
  let calls = 0;
  const provider = { name: 'p', act: async () => ++calls };
  const rolls = (xs: number[]) => () => xs.shift() ?? 1;
  await expect(withFaults(provider, 'p', 0.9, rolls([0.1]))['act']()).rejects.toThrow(/before reaching/);
  expect(calls).toBe(0);
  await expect(withFaults(provider, 'p', 0.9, rolls([0.5, 0.5, 0.1]))['act']()).rejects.toBeInstanceOf(InjectedFault);
  expect(calls).toBe(1); // the provider acted; only the answer was lost
  expect(await withFaults(provider, 'p', 0.9, rolls([0.5, 0.5, 0.5]))['act']()).toBe(2);
  expect(withFaults(provider, 'p', 0)).toBe(provider);
});

// postgres-outage stops the machine's Postgres, which the other test files share: it runs from `npm run drill` only.
test.each([
  ['worker-kill' as const],
  ['two-workers' as const],
  ['temporal-restart' as const],
  ['api-kill' as const],
  ['provider-faults' as const],
])(
  'drill %s: every process completes, no duplicated effect, invariants green',
  async (drill) => {
    const report = await runDrill(drill, SMALL, () => undefined, 2);
    console.log(formatReport(report));
    expect(report.faults.length).toBeGreaterThanOrEqual(1);
    expect({
      completed: report.completed,
      stuck: report.stuck,
      failed: report.failed,
      duplicates: report.duplicates,
      invariantsOk: report.invariantsOk,
    }).toEqual({ completed: 20, stuck: [], failed: [], duplicates: [], invariantsOk: true });
  },
  600000,
);
