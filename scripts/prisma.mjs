// Runs the Prisma CLI offline-safe: Prisma 7's CLI first tries to download its native schema engine,
// which these machines cannot reach. generate/validate/format don't need it, so point it at /bin/true
// (see shared/OFFLINE-STACK.md) and switch off telemetry.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const env = { ...process.env, CHECKPOINT_DISABLE: '1', PRISMA_HIDE_UPDATE_MESSAGE: '1' };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY && existsSync('/bin/true')) env.PRISMA_SCHEMA_ENGINE_BINARY = '/bin/true';
// Prisma 7's own CLI entry, not node_modules/.bin/prisma: the `prisma6` alias (Prisma 6.19, for
// migration SQL) declares the same bin name, and which of the two owns .bin/prisma is up to npm.
const cli = new URL('../node_modules/prisma/build/index.js', import.meta.url).pathname;
if (!existsSync(cli)) process.exit(0); // first `npm install` pass before prisma lands: nothing to do
const result = spawnSync(process.execPath, [cli, ...process.argv.slice(2)], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
