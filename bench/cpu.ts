/**
 * Where a benchmark's time goes: CPU seconds used by each process (the Temporal server, the worker, the API,
 * Postgres, the load generator), read from /proc before and after, so anyone can see which one is the limit.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** utime + stime of one process, in seconds (0 when it is gone). */
export function cpuSecondsOf(pid: number): number {
  try {
    // The command name (field 2) can hold spaces; the fields after its closing parenthesis are fixed.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // fields 14 and 15 of stat(5)
  } catch {
    return 0;
  }
}

/** Every Postgres process's CPU together (backends come and go; the server is the sum of them). */
export function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') total += cpuSecondsOf(Number(entry));
    } catch {
      // the process ended between the listing and the read
    }
  }
  return total;
}

export type Processes = Record<string, number | 'postgres'>; // name → pid, or all of Postgres

/** Starts counting; the returned function answers the CPU seconds each process used since. */
export function cpuMeter(processes: Processes): () => Record<string, number> {
  const read = () =>
    Object.fromEntries(
      Object.entries(processes).map(([name, p]) => [name, p === 'postgres' ? postgresCpuSeconds() : cpuSecondsOf(p)]),
    );
  const before = read();
  return () => {
    const after = read();
    return Object.fromEntries(Object.keys(processes).map((name) => [name, after[name] - before[name]]));
  };
}

/** "temporal 41.2 s · worker 30.1 s · …", largest first, with the wall time for scale. */
export function formatCpu(used: Record<string, number>, wallSeconds: number): string {
  return (
    Object.entries(used)
      .sort((a, b) => b[1] - a[1])
      .map(([name, s]) => `${name} ${s.toFixed(1)} s`)
      .join(' · ') +
    ` (wall ${wallSeconds.toFixed(1)} s × ${availableParallelism()} cores = ${(availableParallelism() * wallSeconds).toFixed(0)} CPU s)`
  );
}
