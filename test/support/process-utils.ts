// Small helpers shared by the PostgreSQL and Redis starters.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { connect } from 'node:net';

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a program without a shell; rejects with its output in the message. */
export function run(file: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      // Not error.message: it repeats the whole command line and stderr.
      const how =
        error && (error.killed ? `timed out after ${timeoutMs} ms` : `exit code ${error.code ?? error.signal}`);
      if (error) reject(new Error(`${file} ${args.join(' ')} failed (${how})\n${stderr}${stdout}`.trim()));
      else resolve({ stdout, stderr });
    });
  });
}

/** True while something accepts TCP connections on 127.0.0.1:port. */
export function isPortOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Whether a process is still running. A zombie counts as gone: daemons we kill are reparented to
 * PID 1, which in some containers never reaps them, and kill(pid, 0) keeps succeeding on zombies.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    // No /proc (not Linux) or no such process: fall back to signal 0.
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/** Last `bytes` of a log file, for error messages; never throws. */
export async function tailOf(path: string, bytes = 4000): Promise<string> {
  try {
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      const start = Math.max(0, size - bytes);
      const buffer = Buffer.alloc(size - start);
      await file.read(buffer, 0, buffer.length, start);
      return buffer.toString('utf8');
    } finally {
      await file.close();
    }
  } catch {
    return `(no log at ${path})`;
  }
}

/** Runs `start` on a fresh free port, retrying when another process grabbed the port first. */
export async function withPortRetry<T>(
  pickPort: () => Promise<number>,
  start: (port: number) => Promise<T>,
  attempts = 3,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await pickPort();
    try {
      return await start(port);
    } catch (error) {
      if (attempt >= attempts) throw error;
    }
  }
}

/**
 * Signals `pid` and blocks until it is gone (or `timeoutMs` passes). Synchronous on purpose: it runs in
 * process 'exit' handlers, where nothing async happens any more.
 */
export function killAndWaitSync(pid: number | undefined, signal: NodeJS.Signals, timeoutMs = 5_000): void {
  if (pid === undefined || pid <= 0) return; // pid 0 would signal our own process group
  try {
    process.kill(pid, signal);
  } catch {
    return; // already gone
  }
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 20);
}
