// Serves the built browser app (scripts/build-web.ts) at /app/. Files are read once at start and kept in
// memory (the build is about 55 kB). Hashed names are immutable for a year; index.html is revalidated on
// every load (no-cache with an ETag), so a new build reaches browsers at once.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';

/**
 * The app's own policy: scripts, styles and connections (fetch, and the WebSocket: CSP 3's 'self' covers
 * ws: and wss: to the same host) to this origin only; nothing inline, no frames.
 */
export const APP_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
  cacheControl: string;
}

export interface StaticApp {
  serve(req: IncomingMessage, res: ServerResponse, path: string): void;
}

/** The app in `dir`, or undefined when it has not been built (no index.html). */
export async function loadStaticApp(dir: string): Promise<StaticApp | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  if (!names.includes('index.html')) return undefined;
  const files = new Map<string, StaticFile>();
  for (const name of names) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = await readFile(join(dir, name));
    files.set(name, {
      body,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      cacheControl: name === 'index.html' ? 'no-cache' : 'public, max-age=31536000, immutable',
    });
  }
  return {
    serve(req, res, path) {
      // The path arrives normalised (no trailing slash): /app without one is sent to /app/, so the
      // page's relative links resolve under it.
      if (path === '/app' && !(req.url ?? '').split('?')[0]!.endsWith('/')) {
        res.writeHead(308, { location: '/app/' });
        res.end();
        return;
      }
      const file = files.get(path === '/app' ? 'index.html' : path.slice('/app/'.length));
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
        res.end('method not allowed');
        return;
      }
      if (!file) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' });
        res.end('not found');
        return;
      }
      res.setHeader('content-security-policy', APP_CSP);
      const headers = { etag: file.etag, 'cache-control': file.cacheControl };
      if (req.headers['if-none-match'] === file.etag) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      res.writeHead(200, { ...headers, 'content-type': file.type, 'content-length': file.body.length });
      res.end(req.method === 'HEAD' ? undefined : file.body);
    },
  };
}
