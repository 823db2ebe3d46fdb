// A loopback TCP proxy that delays every chunk by `delayMs` in each direction (order kept): a Redis that is
// far away or congested, without touching the server. The delay can change while connections are open.
import { connect, createServer, type Socket } from 'node:net';

export interface SlowProxy {
  port: number;
  url: string;
  /** The delay now, each way. */
  readonly delayMs: number;
  setDelay(ms: number): void;
  close(): Promise<void>;
}

/**
 * Forwards `from` to `to`, each chunk `delay()` ms after it arrived. One queue and one timer per direction:
 * a chunk leaves only after every earlier one, whatever the delay was when each came. (A timer per chunk
 * reorders them: timers due at nearly the same moment may fire in either order when they were set from
 * the event loop's cached clock, and a Redis stream with one chunk out of place pairs replies with the
 * wrong commands.)
 */
function pipeDelayed(from: Socket, to: Socket, delay: () => number): void {
  const queue: { due: number; chunk: Buffer }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closing = false;
  const pump = (): void => {
    timer = undefined;
    while (queue.length > 0 && queue[0]!.due <= Date.now()) {
      const { chunk } = queue.shift()!;
      if (!to.destroyed) to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(pump, queue[0]!.due - Date.now());
    else if (closing) to.destroy();
  };
  from.on('data', (chunk: Buffer) => {
    // Never due before the chunk ahead of it, so a delay change cannot reorder the stream either.
    queue.push({ due: Math.max(Date.now() + delay(), queue.at(-1)?.due ?? 0), chunk });
    if (timer === undefined) timer = setTimeout(pump, queue[0]!.due - Date.now());
  });
  from.on('close', () => {
    closing = true;
    if (timer === undefined) timer = setTimeout(pump, delay());
  });
  from.on('error', () => to.destroy());
}

export function startSlowProxy(targetPort: number): Promise<SlowProxy> {
  let delayMs = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    pipeDelayed(client, upstream, () => delayMs);
    pipeDelayed(upstream, client, () => delayMs);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({
        port,
        url: `redis://127.0.0.1:${port}`,
        get delayMs() {
          return delayMs;
        },
        setDelay: (ms) => {
          delayMs = ms;
        },
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
