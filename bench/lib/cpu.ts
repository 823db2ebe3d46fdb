// A process's own CPU time, for per-request costs that hold up while other work shares the machine.
import { readFileSync } from 'node:fs';

/** CPU seconds a process has used (user + system), from /proc: robust to other load on the machine. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/**
 * Seconds the process's main thread (a Node server's event loop) spent runnable but waiting for a CPU,
 * from /proc/<pid>/schedstat: time the machine's other work took from it.
 */
export function runQueueSeconds(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
}
