/** The exception case's branches with stubbed activities: escalation at both thresholds, cause gone, resolve. */
import { randomUUID } from 'node:crypto';
import type { Duration } from '@temporalio/common';
import { exceptionCase } from '../../workflows/exception-case';
import { caseQuery, causeGoneSignal, resolveCaseUpdate } from '../../contracts/exception-messages';
import type { ExceptionCaseInput } from '../../contracts/exception-types';
import { caseWorkflowId } from '../../contracts/workflow-ids';
import { caseStubs, queryUntil, startHarness, type Harness } from './harness';

let h: Harness;
beforeAll(async () => (h = await startHarness()));
afterAll(async () => h?.stop());

const input = (sla: Duration = '1h', secondSla: Duration = '2h'): ExceptionCaseInput => {
  const exceptionId = randomUUID();
  return {
    exceptionId,
    key: `test:${exceptionId}`,
    type: 'carrier_failure',
    subjectType: 'shipment',
    subjectId: 'S-1',
    summary: 'lost',
    sla,
    secondSla,
  };
};
const start = (i: ExceptionCaseInput) => h.start(exceptionCase, [i], caseWorkflowId(i.exceptionId));

test('nobody acts: escalated at the first and at the second threshold, and it still waits', async () => {
  h.use(caseStubs(['reship', 'refund']));
  const handle = await start(input('200ms', '400ms'));
  const state = await queryUntil(
    () => handle.query(caseQuery),
    (s) => s.waitingFor === 'a person (escalated, level 2)', // set once the second escalation is recorded
  );
  expect(state).toMatchObject({ status: 'open', escalationLevel: 2 });
  expect(h.called('escalateCase').map((c) => c.level)).toEqual([1, 2]);
  await handle.executeUpdate(resolveCaseUpdate, { args: [{ action: 'refund', note: 'late but done' }] });
  expect(await handle.result()).toEqual({
    outcome: 'resolved',
    resolution: { action: 'refund', note: 'late but done' },
  });
});

test('an action outside the catalogue is refused and the case stays open', async () => {
  h.use(caseStubs(['reship']));
  const handle = await start(input());
  await queryUntil(
    () => handle.query(caseQuery),
    (s) => s.allowedActions.length > 0,
  );
  await expect(
    handle.executeUpdate(resolveCaseUpdate, { args: [{ action: 'refnud', note: 'typo' }] }),
  ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/not allowed.*allowed: reship/) } });
  expect(await handle.query(caseQuery)).toMatchObject({ status: 'open' });
  await handle.signal(causeGoneSignal, 'the parcel turned up');
  expect(await handle.result()).toEqual({ outcome: 'closed', reason: 'the parcel turned up' });
  expect(h.called('closeCase')).toEqual([{ exceptionId: expect.any(String), reason: 'the parcel turned up' }]);
  expect(h.called('resolveCase')).toEqual([]);
});
