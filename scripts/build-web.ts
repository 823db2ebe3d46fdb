// Builds the browser app (web/) with esbuild into a folder the gateway serves at /app/: hashed script and
// style names, so they can be cached for a year, and an index.html that names them. `npm run build:web`;
// `npm start` runs it when the folder has no index.html. Written to a temporary folder and renamed, so a
// gateway never serves half a build.
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '../web');
export const DEFAULT_WEB_DIR = join(WEB, 'dist');

export async function buildWeb(outDir: string = DEFAULT_WEB_DIR): Promise<void> {
  const staging = `${outDir}.tmp-${process.pid}`;
  const result = await build({
    entryPoints: [join(WEB, 'src/main.ts'), join(WEB, 'src/style.css')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    entryNames: '[name]-[hash]',
    outdir: staging,
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
  const js = outputs.find((name) => name.startsWith('main-') && name.endsWith('.js'));
  const css = outputs.find((name) => name.startsWith('style-') && name.endsWith('.css'));
  if (!js || !css) throw new Error(`esbuild wrote no script or stylesheet: ${outputs.join(', ')}`);
  const html = (await readFile(join(WEB, 'index.html'), 'utf8'))
    .replace('__JS__', `/app/${js}`)
    .replace('__CSS__', `/app/${css}`);
  await writeFile(join(staging, 'index.html'), html);
  await rm(outDir, { recursive: true, force: true });
  await rename(staging, outDir);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildWeb(process.argv[2] ? resolve(process.argv[2]) : DEFAULT_WEB_DIR);
  process.stdout.write(`build-web: built ${process.argv[2] ?? 'web/dist'}\n`);
}
