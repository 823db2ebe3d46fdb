// Counting Redis commands two ways:
// - INFO commandstats (cheap, used around every scenario): every command Redis executed, including
//   the ones a Lua script runs inside one EVALSHA.
// - MONITOR (only in the redis-round-trips scenario, since it slows Redis down): the commands clients
//   actually sent, so a script counts once; its inner commands come from source "lua" and are left out.
import { Redis } from 'ioredis';

export type CommandCounts = Record<string, number>;

export async function commandCounts(redis: Redis): Promise<CommandCounts> {
  const text = await redis.info('commandstats');
  const counts: CommandCounts = {};
  for (const line of text.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (match && match[1] !== 'info') counts[match[1]!] = Number(match[2]);
  }
  return counts;
}

export function diffCounts(before: CommandCounts, after: CommandCounts): CommandCounts {
  const out: CommandCounts = {};
  for (const [name, calls] of Object.entries(after)) {
    const delta = calls - (before[name] ?? 0);
    if (delta > 0) out[name] = delta;
  }
  return out;
}

export const totalOf = (counts: CommandCounts): number => Object.values(counts).reduce((a, b) => a + b, 0);

export interface MonitorCount {
  /** Commands sent by clients (what costs a network hop, pipelined or not), by name. */
  sent: CommandCounts;
  /** Commands run inside Lua scripts, by name. */
  insideLua: CommandCounts;
}

/** Runs `work` with a MONITOR connection open and counts what Redis saw meanwhile. */
export async function monitorDuring<T>(
  url: string,
  work: () => Promise<T>,
): Promise<{ result: T; counts: MonitorCount }> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  const counts: MonitorCount = { sent: {}, insideLua: {} };
  try {
    const monitor = await client.monitor();
    // ioredis now and then takes a MONITOR line for a reply ("Command queue state error"): one line
    // uncounted, not a failed run.
    monitor.on('error', () => undefined);
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      const name = String(args[0] ?? '').toLowerCase();
      if (name === 'info' || name === 'monitor') return; // the bench's own
      const into = source === 'lua' ? counts.insideLua : counts.sent;
      into[name] = (into[name] ?? 0) + 1;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const result = await work();
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the last MONITOR lines arrive
    monitor.disconnect();
    return { result, counts };
  } finally {
    client.disconnect();
  }
}
