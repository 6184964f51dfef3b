#!/usr/bin/env node
// `npm run check:packages`: builds every package (turbo → tsc, which also type-checks the sources) and
// checks what npm would publish with publint and are-the-types-wrong (ESM-only profile).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const run = (cmd, args) => execFileSync(cmd, args, { stdio: 'inherit', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } });
run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only']);
for (const dir of readdirSync('packages')) {
  const pkg = JSON.parse(readFileSync(`packages/${dir}/package.json`, 'utf8'));
  if (pkg.private) continue;
  run('npx', ['publint', '--strict', `packages/${dir}`]);
  run('npx', ['attw', '--pack', `packages/${dir}`, '--profile', 'esm-only', '--format', 'table-flipped']);
}
