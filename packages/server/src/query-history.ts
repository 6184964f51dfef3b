import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic, type Workspace } from './workspace.js';

/** A statement the playground ran, with what it gave. */
export interface HistoryEntry {
  sql: string;
  /** When it finished (ISO 8601). */
  at: string;
  rows: number;
  elapsedMs: number;
}

/** Statements the history keeps; older ones fall off. */
export const HISTORY_LIMIT = 50;

/** The workspace's query history: newest first, one entry per statement text. */
export interface QueryHistory {
  list(): HistoryEntry[];
  /** Puts `entry` first (an earlier run of the same text leaves its place) and keeps the newest {@link HISTORY_LIMIT}. */
  add(entry: HistoryEntry): Promise<void>;
}

/**
 * The statements run in the playground, kept in the workspace (`.syncline/query-history.json`) beside its
 * sync files, so a reload, another browser or a restart of `syncline serve` sees the same list. Writes are
 * serialised and atomic. A file that is not a history (edited by hand) reads as empty and is replaced on the
 * next run: it only ever held a convenience.
 * @example const history = queryHistory(ws); await history.add({ sql, at: new Date().toISOString(), rows, elapsedMs })
 */
export function queryHistory(ws: Workspace): QueryHistory {
  const file = join(ws.dir, '.syncline', 'query-history.json');
  let writing: Promise<void> = Promise.resolve();
  const list = (): HistoryEntry[] => {
    try {
      const entries = (JSON.parse(readFileSync(file, 'utf8')) as { entries?: unknown }).entries;
      return Array.isArray(entries) ? entries.filter((e): e is HistoryEntry => typeof (e as HistoryEntry)?.sql === 'string') : [];
    } catch {
      return [];
    }
  };
  return {
    list,
    add(entry) {
      writing = writing
        .catch(() => undefined)
        .then(() => {
          const entries = [entry, ...list().filter((e) => e.sql !== entry.sql)].slice(0, HISTORY_LIMIT);
          return writeAtomic(file, JSON.stringify({ entries }, null, 2) + '\n');
        });
      return writing;
    },
  };
}
