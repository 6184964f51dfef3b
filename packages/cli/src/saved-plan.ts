import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { SyncError, type PlanDigests } from '@syncline/core';

/** The first line of a saved plan (`plan --out`): the plan's JSON document with what it was computed from. */
export interface SavedPlanHeader {
  kind: 'syncline.plan';
  format: 'ndjson';
  /** Absolute path of the sync's config. */
  config_path: string;
  digests: PlanDigests;
  summary: Record<string, number>;
  estimate: { seconds: number; requests: unknown[] };
  [key: string]: unknown;
}

/**
 * Writes a saved plan: the header as the first line, then the NDJSON changes DuckDB wrote to `changesFile`
 * (copied as a stream, then removed), so memory stays bounded however many changes there are.
 */
export async function writePlanFile(out: string, header: SavedPlanHeader, changesFile: string): Promise<void> {
  const file = createWriteStream(out);
  file.write(`${JSON.stringify(header)}\n`);
  try {
    await pipeline(createReadStream(changesFile), file);
  } finally {
    rmSync(changesFile, { force: true });
  }
}

/** Reads a saved plan's header (its first line only). Errors name the file and the `--plan` option. */
export async function readPlanHeader(file: string): Promise<SavedPlanHeader> {
  let first: string | undefined;
  try {
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) {
      first = line;
      break;
    }
    lines.close();
  } catch (e) {
    throw new SyncError(
      'invalid_option',
      `--plan ${file}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  let header: Partial<SavedPlanHeader> | undefined;
  try {
    header = first ? (JSON.parse(first) as Partial<SavedPlanHeader>) : undefined;
  } catch {
    header = undefined;
  }
  if (!header || header.kind !== 'syncline.plan' || header.format !== 'ndjson' || !header.digests || !header.config_path)
    throw new SyncError(
      'invalid_option',
      `--plan ${file}: line 1 is not a saved plan header (make one with \`syncline plan <config> --out ${file}\`)`,
    );
  return header as SavedPlanHeader;
}
