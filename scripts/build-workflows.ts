/**
 * `npm run build:workflows [-- out.js]`: the workflow bundle a production worker loads with WORKFLOW_BUNDLE=<file>,
 * instead of running webpack at every start (seconds of CPU and a peak of memory the worker then keeps).
 * Build it with the code you deploy: a bundle from other code than the activities beside it is a bug.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cliFlags } from '../lib/cli';
import { bundleWorkflows } from '../workers/worker';

export async function buildWorkflowBundle(out = join(__dirname, '..', 'dist', 'workflow-bundle.js')): Promise<string> {
  mkdirSync(resolve(out, '..'), { recursive: true });
  const bundle = await bundleWorkflows();
  writeFileSync(out, bundle.code);
  return out;
}

if (require.main === module) {
  const out = cliFlags('npm run build:workflows -- [out.js]', {}, { positionals: 'out.js' }).positionals[0];
  buildWorkflowBundle(out ? resolve(out) : undefined)
    .then((out) => console.log(`Workflow bundle written to ${out}; start workers with WORKFLOW_BUNDLE=${out}`))
    .catch((err) => {
      console.error(`Could not bundle the workflows: ${err.message}`);
      process.exit(1);
    });
}
