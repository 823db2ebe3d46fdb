// The execution path's baseline in the same run: a temporary, detached git worktree of the commit the
// execution-path work started from, whose own bench/servers/cachegate.ts the bench starts as one more
// child. It shares this checkout's node_modules (a symlink) and gets the generated code (Prisma client,
// codegen output, both git-ignored) copied when its sources are unchanged, regenerated otherwise.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

/** main before the execution path was made lean: the figure "2x today's" is measured against. */
export const EXECUTION_BASELINE_COMMIT = 'f237690';

/** What generated code is made from: when none of it changed, the generated files can be copied. */
const GENERATOR_INPUTS = ['prisma/schema.prisma', 'schema', 'client/operations', 'codegen.yml'];

export interface BaselineWorktree {
  /** Root of the checkout: its bench/servers/ are started from there. */
  root: string;
  commit: string;
  remove(): void;
}

const git = (cwd: string, args: string[]): string =>
  execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

function inputsUnchanged(repo: string, commit: string): boolean {
  try {
    git(repo, ['diff', '--quiet', commit, '--', ...GENERATOR_INPUTS]);
    return true;
  } catch {
    return false;
  }
}

/** Creates the worktree; `remove` must be called (the bench registers it with its cleanups). */
export function addBaselineWorktree(repo: string, commit = EXECUTION_BASELINE_COMMIT): BaselineWorktree {
  const root = mkdtempSync(join(os.tmpdir(), 'cachegate-baseline-'));
  const remove = (): void => {
    try {
      git(repo, ['worktree', 'remove', '--force', root]);
    } catch {
      rmSync(root, { recursive: true, force: true });
      git(repo, ['worktree', 'prune']);
    }
  };
  try {
    git(repo, ['worktree', 'add', '--detach', root, commit]);
    symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'), 'dir');
    if (inputsUnchanged(repo, commit)) {
      for (const dir of ['src/generated/prisma', 'src/generated/client', 'src/generated/graphql'])
        if (existsSync(join(repo, dir))) cpSync(join(repo, dir), join(root, dir), { recursive: true });
    } else {
      const run = (args: string[]): void => void execFileSync(process.execPath, args, { cwd: root, stdio: 'ignore' });
      run(['scripts/prisma.mjs', 'generate']);
      run([join(repo, 'node_modules/@graphql-codegen/cli/esm/bin.js'), '--config', 'codegen.yml']);
    }
    return { root, commit: git(root, ['rev-parse', '--short', 'HEAD']), remove };
  } catch (error) {
    remove();
    throw error;
  }
}
