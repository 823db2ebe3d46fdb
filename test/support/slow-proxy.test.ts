// The slow proxy must delay a stream, never reorder it: a chunk let out ahead of an earlier one corrupts
// the Redis protocol, and the client then pairs replies with the wrong commands (the redis-slow drill saw
// MGET and EVALSHA answered with replies of another command's shape).
import { createServer, connect, type Server } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSlowProxy, type SlowProxy } from './slow-proxy.ts';
import { sleep } from './wait.ts';

let echo: Server;
let proxy: SlowProxy;

beforeAll(async () => {
  echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const address = echo.address();
  proxy = await startSlowProxy(typeof address === 'object' && address ? address.port : 0);
});

afterAll(async () => {
  await proxy?.close();
  await new Promise((resolve) => echo?.close(resolve));
});

/** Blocks the event loop for `ms`: the proxy's timers are then set from a stale loop clock. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

it('keeps the byte order through delay changes and event-loop stalls', async () => {
  const client = connect({ host: '127.0.0.1', port: proxy.port });
  await new Promise((resolve) => client.once('connect', resolve));
  let received = '';
  client.setEncoding('utf8');
  client.on('data', (text: string) => (received += text));
  let sent = '';
  for (let n = 0; n < 400; n += 1) {
    const line = `${n};`;
    sent += line;
    client.write(line);
    proxy.setDelay([40, 5, 25, 0][n % 4]!);
    if (n % 7 === 0) stall(3 + (n % 5));
    if (n % 3 === 0) await sleep(1);
  }
  proxy.setDelay(0);
  const deadline = performance.now() + 10_000;
  while (received.length < sent.length && performance.now() < deadline) await sleep(20);
  client.destroy();
  expect(received).toBe(sent);
});
