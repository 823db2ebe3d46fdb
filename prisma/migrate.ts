// `npm run migrate`: applies the committed migrations to DATABASE_URL.
import { applyMigrations } from '../src/db/migrator.ts';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is not set: nothing to migrate');
  process.exit(1);
}
const { applied, alreadyApplied } = await applyMigrations(url);
console.log(JSON.stringify({ msg: 'migrations applied', applied, alreadyApplied: alreadyApplied.length }));
