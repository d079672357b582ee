/** `npm run check:invariants [-- --database-url URL]`: exits 1 when any invariant is broken. */
import { createDb } from './index';
import { checkInvariants, formatInvariants } from './invariants';

(async () => {
  const i = process.argv.indexOf('--database-url');
  const url = i > 0 ? process.argv[i + 1] : (await import('../lib/config')).config().DATABASE_URL;
  const db = createDb(url, 1);
  try {
    const results = await checkInvariants(db);
    console.log(formatInvariants(results));
    const failed = results.filter((r) => !r.ok).length;
    console.log(failed ? `${failed} invariant(s) broken.` : 'All invariants hold.');
    process.exitCode = failed ? 1 : 0;
  } finally {
    await db.destroy();
  }
})().catch((err) => {
  console.error(`Cannot check invariants: ${err.message}. Is DATABASE_URL right and migrated?`);
  process.exit(2);
});
