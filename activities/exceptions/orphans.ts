/** Which processes have ended, asked of Temporal: the other half of finding orphaned records (db/orphans.ts). */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { waitingRecords, type Orphan } from '../../db/orphans';
import type { Db } from '../../db';

/** A process's state: RUNNING, a closing status (COMPLETED, FAILED, TERMINATED...), or NOT_FOUND. */
async function processStatus(client: Client, workflowId: string): Promise<string> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return 'NOT_FOUND';
    throw err;
  }
}

/**
 * Records waiting on a process that has ended. A record whose process is not found is an orphan only
 * past `graceSeconds`: the API writes the record just before it starts the process.
 */
export async function findOrphans(db: Db, client: Client, graceSeconds = 300): Promise<Orphan[]> {
  const waiting = await waitingRecords(db);
  const orphans: Orphan[] = [];
  for (let i = 0; i < waiting.length; i += 16) {
    // a few describes at a time: the frontend is shared
    const batch = waiting.slice(i, i + 16);
    const states = await Promise.all(batch.map((r) => processStatus(client, r.workflowId)));
    batch.forEach((r, j) => {
      const process = states[j];
      if (process === 'RUNNING' || (process === 'NOT_FOUND' && r.ageSeconds < graceSeconds)) return;
      orphans.push({ ...r, process });
    });
  }
  return orphans;
}
