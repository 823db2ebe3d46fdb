// The generated code is committed, so it must be what GraphQL Code Generator makes from the current
// schema/*.graphql and client/operations/*.graphql; and the generated client must really be typed.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate, loadCodegenConfig } from '@graphql-codegen/cli';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const STALE = 'src/generated is out of date: run npm run codegen';

interface GeneratedFile {
  filename: string;
  content: string;
}

/** Runs codegen.yml in memory (saveToFile = false): nothing in the repository is written. */
async function generateInMemory(): Promise<GeneratedFile[]> {
  const loaded = await loadCodegenConfig({ configFilePath: join(ROOT, 'codegen.yml') });
  if (!loaded?.config) throw new Error('codegen.yml did not load');
  const outputs: GeneratedFile[] = await generate({ ...loaded.config, cwd: ROOT, silent: true, watch: false }, false);
  return outputs.map((o) => ({ filename: relative(ROOT, join(ROOT, o.filename)), content: o.content }));
}

const readCommitted = (path: string): string | undefined => {
  try {
    return readFileSync(join(ROOT, path), 'utf8');
  } catch {
    return undefined;
  }
};

describe('GraphQL Code Generator output', () => {
  let generated: GeneratedFile[];

  beforeAll(async () => {
    generated = await generateInMemory();
  }, 60_000);

  it('makes the resolver types and the typed client', () => {
    expect(generated.map((f) => f.filename).sort()).toEqual(
      expect.arrayContaining([
        'src/generated/graphql/resolvers.ts',
        'src/generated/client/graphql.ts',
        'src/generated/client/gql.ts',
        'src/generated/client/index.ts',
      ]),
    );
  });

  it('is byte-identical to the committed src/generated/graphql/resolvers.ts and src/generated/client/*', () => {
    const stale = generated.filter((f) => readCommitted(f.filename) !== f.content).map((f) => f.filename);
    expect(stale, `${STALE} (differs: ${stale.join(', ')})`).toEqual([]);
  });

  it('src/generated/client holds no file that codegen no longer makes', () => {
    const made = new Set(generated.map((f) => f.filename));
    const committed = readdirSync(join(ROOT, 'src/generated/client')).map((name) => `src/generated/client/${name}`);
    const leftOver = committed.filter((path) => !made.has(path));
    expect(leftOver, `${STALE} (left over: ${leftOver.join(', ')})`).toEqual([]);
  });
});

describe('the typed client', () => {
  it('client/example.ts compiles with tsc, so results and variables are really typed', async () => {
    // example.ts uses @ts-expect-error on fields that do not exist: if the types were `any`, tsc would fail.
    const tsc = join(ROOT, 'node_modules/.bin/tsc');
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        tsc,
        ['-p', 'client/tsconfig.json', '--noEmit'],
        { cwd: ROOT, timeout: 120_000 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ code, output: `${stdout}${stderr}` });
        },
      );
    });
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);
});
