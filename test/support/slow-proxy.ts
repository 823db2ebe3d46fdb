// A loopback TCP proxy that delays every chunk by `delayMs` in each direction (order kept): a Redis that is
// far away or congested, without touching the server. The delay can change while connections are open.
import { connect, createServer, type Socket } from 'node:net';

export interface SlowProxy {
  port: number;
  url: string;
  setDelay(ms: number): void;
  close(): Promise<void>;
}

function pipeDelayed(from: Socket, to: Socket, delay: () => number): void {
  // Each chunk leaves no earlier than the one before it, so a delay change never reorders the stream.
  let lastDue = 0;
  from.on('data', (chunk) => {
    const due = Math.max(Date.now() + delay(), lastDue);
    lastDue = due;
    setTimeout(() => {
      if (!to.destroyed) to.write(chunk);
    }, due - Date.now());
  });
  from.on('close', () => setTimeout(() => to.destroy(), delay()));
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
