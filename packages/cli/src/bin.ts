#!/usr/bin/env node
import { main } from './program.js';

// A closed pipe (`syncline runs sync.yaml | head -1`) is the reader saying "enough", not a failure: further
// output is dropped and the command ends as it would have (ux.md §1: no stack traces). Node ignores SIGPIPE, so
// the closed pipe shows up as an EPIPE 'error' event on the stream.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stream.write = (() => true) as typeof stream.write;
  });

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // A bug, not a user mistake: one line (the stack with SYNCLINE_DEBUG=1), exit 3 ("the command failed").
  const { redact } = await import('@syncline/core');
  const text = process.env.SYNCLINE_DEBUG
    ? ((error as Error)?.stack ?? String(error))
    : `Error: ${(error as Error)?.message ?? String(error)}`;
  process.stderr.write(`${redact(text)}\n`);
  process.exitCode = 3;
}
