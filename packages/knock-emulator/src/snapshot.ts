import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { writeFileSync, renameSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BulkOperationRecord } from './bulk-operation.js';
import { Environment, type RecipientRecord } from './environment.js';
import type { EmulatorState } from './emulator-state.js';

/** The snapshot file inside `dataDir`. */
export const SNAPSHOT_FILE = 'knock-emulator.json';

type StoredRecord = Omit<RecipientRecord, 'deleting'>;

interface StoredEnvironment {
  users: StoredRecord[];
  collections: Record<string, StoredRecord[]>;
  audiences: Array<{ key: string; createdAt: string; members: Array<{ userId: string; tenant: string | null; addedAt: string }> }>;
  bulkOperations: Array<Omit<BulkOperationRecord, 'apply' | 'timer'>>;
  entries: Environment['entries'];
}

interface Snapshot {
  version: 1;
  environments: Record<string, StoredEnvironment>;
}

const strip = ({ deleting: _d, ...rest }: RecipientRecord): StoredRecord => rest;

/** Serialises all environments (keyed by environment id, never by API key). Pending bulk jobs are stored as they are. */
export function toSnapshot(state: EmulatorState): string {
  state.bulk.settle(); // eager bulk jobs are not stored data yet (eager-apply.ts)
  const environments: Record<string, StoredEnvironment> = {};
  for (const env of state.environments.values()) {
    environments[env.id] = {
      users: [...env.users.values()].filter((r) => !r.deleting).map(strip),
      collections: Object.fromEntries(
        [...env.collections].map(([name, map]) => [name, [...map.values()].filter((r) => !r.deleting).map(strip)]),
      ),
      audiences: [...env.audiences.values()].map((a) => ({ key: a.key, createdAt: a.createdAt, members: [...a.members.values()] })),
      bulkOperations: [...env.bulkOperations.values()].map(({ apply: _a, timer: _t, ...op }) => op),
      entries: env.entries,
    };
  }
  return JSON.stringify({ version: 1, environments } satisfies Snapshot);
}

/** Loads a snapshot into an empty state. */
export function loadSnapshot(state: EmulatorState, text: string): void {
  const snapshot = JSON.parse(text) as Snapshot;
  if (snapshot.version !== 1) throw new Error(`[knock-emulator] unknown snapshot version ${String(snapshot.version)}`);
  for (const [id, stored] of Object.entries(snapshot.environments)) {
    const env = new Environment(id);
    for (const r of stored.users) env.users.set(r.id, r);
    for (const [name, records] of Object.entries(stored.collections)) {
      const map = env.collection(name);
      for (const r of records) map.set(r.id, r);
    }
    for (const a of stored.audiences) {
      env.audiences.set(a.key, {
        key: a.key,
        createdAt: a.createdAt,
        members: new Map(a.members.map((m) => [memberKey(m.userId, m.tenant), m])),
      });
    }
    for (const op of stored.bulkOperations) {
      // A job still pending at shutdown never applied; report it as failed rather than pretend.
      if (op.status === 'queued' || op.status === 'processing') Object.assign(op, { status: 'failed', failed_at: op.updated_at });
      env.bulkOperations.set(op.id, op);
    }
    env.entries = stored.entries;
    state.environments.set(id, env);
  }
}

/** The key of a membership tuple in `Audience.members`. */
export function memberKey(userId: string, tenant: string | null): string {
  return tenant === null ? `${userId}\u0000` : `${userId}\u0000\u0001${tenant}`;
}

/**
 * Persists the state to `dataDir`: loads the snapshot if present, then writes it (atomically: temp
 * file + rename) on change, debounced, and synchronously on `close`.
 * @example const persistence = await persist(state, './data', 250)
 */
export async function persist(state: EmulatorState, dataDir: string, debounceMs: number): Promise<{ close(): void }> {
  const file = join(dataDir, SNAPSHOT_FILE);
  await mkdir(dataDir, { recursive: true });
  try {
    loadSnapshot(state, await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  const write = (): void => {
    timer = undefined;
    const text = toSnapshot(state);
    writing = writing
      .then(async () => {
        await writeFile(`${file}.tmp`, text);
        await rename(`${file}.tmp`, file);
      })
      .catch(() => {});
  };
  state.onChange = () => {
    if (!timer) {
      timer = setTimeout(write, debounceMs);
      timer.unref();
    }
  };
  return {
    close() {
      clearTimeout(timer);
      state.onChange = () => {};
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(`${file}.tmp`, toSnapshot(state));
      renameSync(`${file}.tmp`, file);
    },
  };
}
