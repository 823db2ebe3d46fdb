// The little protocol between bench/run.ts and each server child process (node IPC channel).
//   child -> parent: { type: 'ready', url } once listening, { type: 'reply', id, result } per command.
//   parent -> child: { type: 'command', id, name } with name 'stats' | 'flush' | 'stop' | 'loop'.
// A child whose parent goes away (IPC disconnect) stops itself, so no server outlives the bench.
// The first 'loop' starts watching the child's own event loop (delay histogram, garbage collections) and
// answers null; each later one returns what it saw since the one before and starts again. Nothing is
// watched before the first 'loop', so the throughput runs measure the servers as they are.
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

export type CommandName = 'stats' | 'flush' | 'stop' | 'loop';

export interface LoopStats {
  /** Event-loop delay (monitorEventLoopDelay, 1 ms resolution), ms. */
  delay: { p50: number; p99: number; max: number };
  /** Garbage collections by kind (minor = scavenge, major = mark-compact): count, total ms, longest ms. */
  gc: Record<string, { count: number; ms: number; maxMs: number }>;
}

function watchLoop(): () => LoopStats {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
    [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
  };
  let gc: LoopStats['gc'] = {};
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = kinds[(entry as unknown as { detail: { kind: number } }).detail.kind] ?? 'other';
      const row = (gc[kind] ??= { count: 0, ms: 0, maxMs: 0 });
      row.count += 1;
      row.ms += entry.duration;
      row.maxMs = Math.max(row.maxMs, entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  return () => {
    const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
    const out = {
      delay: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
      gc: Object.fromEntries(
        Object.entries(gc).map(([k, v]) => [k, { count: v.count, ms: Math.round(v.ms), maxMs: +v.maxMs.toFixed(2) }]),
      ),
    };
    delay.reset();
    gc = {};
    return out;
  };
}

export interface ServerStats {
  /** SQL statements the server sent to PostgreSQL since it started. */
  sql: number;
}

export interface ChildHandlers {
  stats(): ServerStats | Promise<ServerStats>;
  /** Drops whatever the server's cache offers to drop (the response-cache baseline: everything). */
  flush?(): Promise<void>;
  stop(): Promise<void>;
}

export function serveCommands(url: string, handlers: ChildHandlers): void {
  if (!process.send) throw new Error('bench servers run as child processes of bench/run.ts (no IPC channel)');
  let loop: (() => LoopStats) | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= handlers.stop().catch((error: unknown) => console.error('[bench server] stop failed', error)));
  process.on('message', async (message: { type: string; id: number; name: CommandName }) => {
    if (message?.type !== 'command') return;
    let result: unknown = null;
    try {
      if (message.name === 'stats') result = await handlers.stats();
      else if (message.name === 'loop') {
        if (loop) result = loop();
        else loop = watchLoop();
      } else if (message.name === 'flush') {
        if (handlers.flush) await handlers.flush();
        result = handlers.flush ? 'flushed' : 'unsupported';
      } else if (message.name === 'stop') await stop();
    } catch (error) {
      result = { error: String(error) };
    }
    process.send?.({ type: 'reply', id: message.id, result });
    if (message.name === 'stop') process.disconnect?.();
  });
  process.once('disconnect', () => void stop().finally(() => process.exit(0)));
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => void stop().finally(() => process.exit(0)));
  process.send({ type: 'ready', url });
}
