/** Appends a benchmark's figures to bench/RESULTS.md with the date, the commit and the machine, so runs compare over time. */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';

const FILE = join(__dirname, 'RESULTS.md');

export function machine(): string {
  return `${availableParallelism()} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return 'not a git checkout';
  }
}

export function appendResult(bench: string, figures: string, invariantsGreen: boolean): void {
  if (!existsSync(FILE))
    writeFileSync(FILE, '# Benchmark results\n\nAppended by each `npm run bench:*` run: newest last.\n');
  const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  appendFileSync(
    FILE,
    `\n## ${bench}, ${when}\n\n${commit()} · ${machine()} · invariants ${invariantsGreen ? 'green' : 'RED'}\n\n\`\`\`\n${figures}\n\`\`\`\n`,
  );
  console.log(`(appended to ${FILE})`);
}
