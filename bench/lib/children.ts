// Starts the servers under test as child processes (one event loop each, like separate deployments),
// talks to them over the IPC channel of bench/servers/ipc.ts, and makes sure none outlives the bench.
import { fork, type ChildProcess } from 'node:child_process';
import { startFlags } from '../../test/support/gateway-process.ts';
import type { CommandName, LoopStats, ServerStats } from '../servers/ipc.ts';

const READY_TIMEOUT_MS = 90_000;
const COMMAND_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;

export interface ServerSpec {
  name: string;
  /** Path of the child's entry file, relative to bench/servers/. */
  entry: 'cachegate.ts' | 'baseline.ts' | 'raw.ts';
  env: Record<string, string>;
  /** Another checkout to start the entry from (the execution-path baseline, baseline-worktree.ts). */
  root?: string;
  /** Run `<entry>.js` compiled beside the sources (tsc emit) with plain node instead of through tsx. */
  compiled?: boolean;
  /** Extra node/V8 flags for the child (e.g. `--max-semi-space-size=64`). */
  nodeFlags?: string[];
  /** Write a V8 CPU profile of the whole child's life into this directory (BENCH_CPU_PROFILE=1). */
  cpuProfileDir?: string;
}

export class ChildServer {
  url = '';
  private nextId = 1;
  private readonly pending = new Map<number, (result: unknown) => void>();
  private exited: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('message', (message: { type: string; id?: number; result?: unknown }) => {
      if (message?.type !== 'reply' || message.id === undefined) return;
      this.pending.get(message.id)?.(message.result);
      this.pending.delete(message.id);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  static async start(spec: ServerSpec): Promise<ChildServer> {
    const file = spec.compiled ? spec.entry.replace(/\.ts$/, '.js') : spec.entry;
    const entry = spec.root
      ? `${spec.root}/bench/servers/${file}`
      : new URL(`../servers/${file}`, import.meta.url).pathname;
    const child = fork(entry, [], {
      execArgv: [
        // Our gateway runs as `npm start` runs it (package.json config.nodeFlags); the peers with Node's defaults.
        ...(spec.entry === 'cachegate.ts' ? startFlags() : []),
        ...(spec.nodeFlags ?? []),
        ...(spec.compiled ? [] : ['--import', 'tsx']),
        ...(spec.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', spec.cpuProfileDir] : []),
      ],
      env: { ...process.env, ...spec.env, NODE_ENV: 'production' },
      // The child's stdout (cachegate's log lines) joins stderr: the bench's stdout carries only its report.
      stdio: ['ignore', 2, 'inherit', 'ipc'],
    });
    const server = new ChildServer(spec.name, child);
    try {
      server.url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${spec.name} was not ready within ${READY_TIMEOUT_MS} ms`)),
          READY_TIMEOUT_MS,
        );
        child.on('message', (message: { type: string; url?: string }) => {
          if (message?.type === 'ready' && message.url) {
            clearTimeout(timer);
            resolve(message.url);
          }
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`${spec.name} exited before it was ready (code ${code}, signal ${signal})`));
        });
      });
    } catch (error) {
      server.kill();
      throw error;
    }
    return server;
  }

  private command(name: CommandName): Promise<unknown> {
    if (!this.child.connected) return Promise.reject(new Error(`${this.name} is not running`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: ${name} got no reply within ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      this.child.send({ type: 'command', id, name });
    });
  }

  async stats(): Promise<ServerStats> {
    return (await this.command('stats')) as ServerStats;
  }

  /** The child's event-loop delay and GCs since the last call (the first call starts watching: null). */
  async loopStats(): Promise<LoopStats | null> {
    return (await this.command('loop')) as LoopStats | null;
  }

  async flush(): Promise<string> {
    return String(await this.command('flush'));
  }

  /** Graceful stop; SIGKILL if the child has not exited in time. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await this.command('stop').catch(() => undefined);
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), STOP_TIMEOUT_MS).unref()),
    ]);
    if (timedOut) {
      this.kill();
      await this.exited;
    }
  }

  /** Synchronous last resort (process 'exit' handlers). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
