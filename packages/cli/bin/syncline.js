#!/usr/bin/env node
// The built CLI (dist/, made by `npm run build`; in the repository `npm ci` builds it through the root
// `prepare` script). Running the compiled JavaScript, not the TypeScript source through tsx, is what lets the
// first line appear within ~100 ms.
try {
  await import('../dist/bin.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist')) throw error;
  process.stderr.write(
    `Error: syncline is not built (${error.message.split('\n')[0]}): run \`npm run build\` in the repository, or \`npm run syncline -- <command>\` to run it from source\n`,
  );
  process.exitCode = 2;
}
