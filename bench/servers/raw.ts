// The ceiling of the bench: a bare node:http server that answers each request body with precomputed
// bytes. It learns each body's answer once from SOURCE_URL (cachegate) during the warm pass, so what
// it measures afterwards is only the HTTP stack: no parsing, no GraphQL, no cache lookup but a Map.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveCommands } from './ipc.ts';

const source = process.env.SOURCE_URL;
if (!source) throw new Error('raw needs SOURCE_URL');
const answers = new Map<string, Buffer>();

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', async () => {
    const body = Buffer.concat(chunks).toString('utf8');
    let answer = answers.get(body);
    if (!answer) {
      const response = await fetch(source, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      answer = Buffer.from(await response.arrayBuffer());
      answers.set(body, answer);
    }
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': answer.length });
    res.end(answer);
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  serveCommands(`http://127.0.0.1:${port}/graphql`, {
    stats: () => ({ sql: 0 }),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
});
