import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { cp, open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { ApiError } from './api-error.js';
import type { SandboxTable } from './sandbox-protocol.js';

/** File formats a table can be uploaded as; decided by content, never by the file name. */
export type TableFormat = 'csv' | 'parquet' | 'json';

const FORMATS: Record<string, TableFormat> = { '.csv': 'csv', '.parquet': 'parquet', '.json': 'json' };

/** A workspace: sync configs in `syncs/`, data files in `data/`, ledgers in `syncs/.syncline/`. */
export interface Workspace {
  dir: string;
  dataDir: string;
  syncsDir: string;
}

/** The folders of the workspace at `dir`. */
export function workspaceAt(dir: string): Workspace {
  const root = resolve(dir);
  return { dir: root, dataDir: join(root, 'data'), syncsDir: join(root, 'syncs') };
}

/**
 * On first start in an empty folder: the bundled sample data (users, companies, audience members) and one
 * example sync. A folder with anything in it is never touched.
 * @example const seeded = await seedWorkspace(workspaceAt('.'))
 */
export async function seedWorkspace(ws: Workspace): Promise<boolean> {
  mkdirSync(ws.dir, { recursive: true });
  if (readdirSync(ws.dir).length > 0) return false;
  const sample = join(dirname(fileURLToPath(import.meta.url)), '..', 'sample');
  await cp(sample, ws.dir, { recursive: true, errorOnExist: true, force: false });
  return true;
}

/** A table's file in `data/`. */
export type TableFile = SandboxTable & { file: string; format: TableFormat; bytes: number };

/** The workspace's tables: each supported file in `data/` is a table named after the file. */
export function listTableFiles(ws: Workspace): TableFile[] {
  if (!existsSync(ws.dataDir)) return [];
  return readdirSync(ws.dataDir)
    .filter((f) => !f.startsWith('.') && FORMATS[extname(f).toLowerCase()])
    .map((f) => {
      const path = join(ws.dataDir, f);
      return {
        name: basename(f, extname(f)),
        path,
        file: `data/${f}`,
        format: FORMATS[extname(f).toLowerCase()]!,
        bytes: statSync(path).size,
      };
    })
    .filter((t) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(t.name))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** A table name from anything a user typed or a file was called: letters, digits and `_` only. */
export function tableName(raw: string): string {
  const stem = basename(raw.replace(/\\/g, '/')).replace(/\.[^.]*$/, '');
  const name = stem
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
  if (!name) throw new ApiError('invalid_request', `"${raw}" gives no usable table name (letters, digits, "_")`, 400);
  return /^[0-9]/.test(name) ? `t_${name}` : name;
}

/** Parquet starts with `PAR1`; JSON with `[` or `{`; text without NUL bytes is CSV. */
export function sniffFormat(head: Buffer): TableFormat | undefined {
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet';
  let text = head;
  if (text[0] === 0xef && text[1] === 0xbb && text[2] === 0xbf) text = text.subarray(3);
  if (text.includes(0)) return undefined;
  const first = /\S/.exec(text.toString('utf8'))?.[0];
  if (first === '[' || first === '{') return 'json';
  return first === undefined ? undefined : 'csv';
}

/** An upload received into a temporary file of `data/` (not yet a table). */
export interface ReceivedUpload {
  /** The temporary file (`data/.upload-<random>.part`). */
  part: string;
  bytes: number;
}

/**
 * Streams an upload to a temporary file under a generated name (never whole in memory), failing with 413
 * (and removing the file) once it passes `limitBytes`.
 * @example const received = await receiveUpload(ws, Readable.fromWeb(request.body), 1 << 30)
 */
export async function receiveUpload(ws: Workspace, body: Readable, limitBytes: number): Promise<ReceivedUpload> {
  mkdirSync(ws.dataDir, { recursive: true });
  const part = join(ws.dataDir, `.upload-${randomBytes(8).toString('hex')}.part`);
  let bytes = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      if (bytes > limitBytes) cb(new ApiError('too_large', `the upload is larger than the limit of ${limitBytes} bytes`, 413));
      else cb(null, chunk);
    },
  });
  try {
    await pipeline(body, limit, createWriteStream(part));
    return { part, bytes };
  } catch (e) {
    await rm(part, { force: true });
    throw e;
  }
}

/**
 * The table an upload named `raw` becomes, and the file it replaces; 409 if one exists and `replace` is off.
 * @example tableSlot(ws, '../users.csv', false) // { name: 'users', existing: undefined }
 */
export function tableSlot(ws: Workspace, raw: string, replace: boolean): { name: string; existing: TableFile | undefined } {
  const name = tableName(raw);
  const existing = listTableFiles(ws).find((t) => t.name === name);
  if (existing && !replace)
    throw new ApiError('conflict', `a table "${name}" exists (${existing.file}); add ?replace=true to replace it`, 409);
  return { name, existing };
}

/**
 * Makes a received upload the table `name`: the format is read from its first bytes (never from a file
 * name), and it moves to `data/<name>.<format>`; the temporary file is gone afterwards in every case.
 * @example await storeUpload(ws, received, { name: 'users', replace: false })
 */
export async function storeUpload(
  ws: Workspace,
  received: ReceivedUpload,
  opts: { name: string; replace: boolean },
): Promise<{ name: string; file: string; format: TableFormat; bytes: number }> {
  const { part, bytes } = received;
  try {
    const { name, existing } = tableSlot(ws, opts.name, opts.replace);
    if (bytes === 0) throw new ApiError('invalid_request', 'the upload is empty (0 bytes)', 400);
    const head = Buffer.alloc(Math.min(bytes, 64 * 1024));
    const fh = await open(part, 'r');
    await fh.read(head, 0, head.length, 0).finally(() => fh.close());
    const format = sniffFormat(head);
    if (!format) throw new ApiError('unsupported_type', 'the upload is not CSV, Parquet or JSON (judged by its content)', 415);
    if (existing) await rm(existing.path, { force: true });
    const file = join(ws.dataDir, `${name}.${format}`);
    await rename(part, file);
    return { name, file: `data/${name}.${format}`, format, bytes };
  } finally {
    await rm(part, { force: true });
  }
}

/** Removes a table's file. */
export async function dropTable(ws: Workspace, name: string): Promise<void> {
  const t = listTableFiles(ws).find((x) => x.name === name);
  if (!t) throw new ApiError('not_found', `no table named "${name}"`, 404);
  await rm(t.path, { force: true });
}

/** Where the last removed table's file waits for an undo (a dot folder: never listed as a table). */
const removedDir = (ws: Workspace): string => join(ws.dataDir, '.removed');

/**
 * Removes a table, keeping its file for {@link restoreTable}: the playground's *Undo* puts it back without the
 * file being uploaded again. Only the last removed table is kept (the folder is not a recycle bin).
 * @example await removeTable(ws, 'users')
 */
export async function removeTable(ws: Workspace, name: string): Promise<void> {
  const t = listTableFiles(ws).find((x) => x.name === name);
  if (!t) throw new ApiError('not_found', `no table named "${name}"`, 404);
  const dir = removedDir(ws);
  await rm(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await rename(t.path, join(dir, basename(t.path)));
}

/**
 * Puts the last removed table back as it was (its own file). 404 when it is not kept (another table was
 * removed since); 409 when a table of that name was made meanwhile.
 * @example await restoreTable(ws, 'users')
 */
export async function restoreTable(ws: Workspace, name: string): Promise<void> {
  const dir = removedDir(ws);
  const kept = existsSync(dir) ? readdirSync(dir).find((f) => basename(f, extname(f)) === name) : undefined;
  if (!kept)
    throw new ApiError('not_found', `table "${name}" is not kept any more (only the last removed table is): upload its file again`, 404);
  if (listTableFiles(ws).some((t) => t.name === name))
    throw new ApiError('conflict', `a table "${name}" exists again; remove it first to restore the removed one`, 409);
  await rename(join(dir, kept), join(ws.dataDir, kept));
}

/** The file of sync `name` (validated by the config schema's name rule, so it cannot leave `syncs/`). */
export function syncFile(ws: Workspace, name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(name)) throw new ApiError('invalid_request', `"${name}" is not a sync name`, 400);
  return join(ws.syncsDir, `${name}.yaml`);
}

/** Names of the workspace's syncs (`syncs/*.yaml`). */
export function listSyncNames(ws: Workspace): string[] {
  if (!existsSync(ws.syncsDir)) return [];
  return readdirSync(ws.syncsDir)
    .filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('.'))
    .map((f) => f.replace(/\.ya?ml$/, ''))
    .sort();
}

/** Writes a file atomically (temp file + rename), so the CLI never reads half a config. */
export async function writeAtomic(file: string, text: string): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}
