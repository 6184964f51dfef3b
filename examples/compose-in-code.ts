// The README's "compose it in code" example, runnable: KNOCK_API_KEY=… [KNOCK_BASE_URL=…] npx tsx examples/compose-in-code.ts
import { openDuckdbLedger, runSync, syncSpecFieldsSchema, toSyncSpec } from '@syncline/core';
import { duckdbSource } from '@syncline/source-duckdb';
import { knockDestination } from '@syncline/destination-knock';

const spec = toSyncSpec(
  syncSpecFieldsSchema.parse({
    name: 'users',
    model: 'select * from users',
    key: 'id',
    sync: { type: 'users', mode: 'upsert', fields: { email: 'email', name: 'full_name' }, onDelete: 'nothing' },
  }),
);
await using ledger = await openDuckdbLedger({ path: ':memory:' });
const result = await runSync({
  spec,
  ledger,
  source: duckdbSource({ tables: { users: './users/users.csv' }, baseDir: import.meta.dirname }),
  destination: knockDestination({ apiKey: process.env.KNOCK_API_KEY!, baseUrl: process.env.KNOCK_BASE_URL }),
  dryRun: process.argv.includes('--dry-run'), // preview: counts, field-level before → after, the requests it would send
});
console.log(JSON.stringify(result.rows)); // { added, changed, removed, unchanged, invalid, failed, synced, total }
