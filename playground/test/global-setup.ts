import { ensureBuilt } from '../scripts/ensure-built.js';

/** Builds the playground once before its test files run in parallel (two builds must not share dist/). */
export default function setup(): void {
  ensureBuilt((line) => process.stderr.write(line + '\n'));
}
