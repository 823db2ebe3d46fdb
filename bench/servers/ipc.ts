// The little protocol between bench/run.ts and each server child process (node IPC channel).
//   child -> parent: { type: 'ready', url } once listening, { type: 'reply', id, result } per command.
//   parent -> child: { type: 'command', id, name } with name 'stats' | 'flush' | 'stop'.
// A child whose parent goes away (IPC disconnect) stops itself, so no server outlives the bench.

export type CommandName = 'stats' | 'flush' | 'stop';

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
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= handlers.stop().catch((error: unknown) => console.error('[bench server] stop failed', error)));
  process.on('message', async (message: { type: string; id: number; name: CommandName }) => {
    if (message?.type !== 'command') return;
    let result: unknown = null;
    try {
      if (message.name === 'stats') result = await handlers.stats();
      else if (message.name === 'flush') {
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
