/** Messages between the server and its SQL sandbox process (sql-sandbox.ts ⇄ sandbox-process.ts). */

/** A workspace table as the sandbox reads it: a file inside the workspace. */
export interface SandboxTable {
  name: string;
  /** Absolute path inside the workspace. */
  path: string;
}

export interface SandboxInit {
  type: 'init';
  /** The workspace: the only directory the sandbox may read. */
  dir: string;
  memoryLimit: string;
  threads: number;
  connections: number;
  tables: SandboxTable[];
}

export type SandboxRequest =
  | { type: 'query'; id: number; sql: string; limit: number }
  | { type: 'profile'; id: number; sql: string }
  | { type: 'tables'; id: number; tables: SandboxTable[] }
  | { type: 'completions'; id: number }
  | { type: 'crash'; id: number }
  | { type: 'interrupt'; id: number };

export interface QueryResult {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
  total: number;
  elapsedMs: number;
}

export interface TableInfo {
  name: string;
  columns: { name: string; type: string }[];
  rowCount: number;
  error?: string;
  /** A CSV file's dialect as DuckDB's sniffer detected it; `unsure` when the table may be read wrong. */
  csv?: CsvDialect;
}

/** How a CSV file is read: what DuckDB detected, or the options a re-import was given. */
export interface CsvDialect {
  delimiter: string;
  quote: string;
  header: boolean;
  /** The file did not load, gave one column, or has no header row: the options are worth a look. */
  unsure: boolean;
}

export interface Completions {
  tables: { name: string; columns: { name: string; type: string }[] }[];
  functions: { name: string; type: string }[];
  keywords: string[];
}

/** A statement left the queue and runs now: its timeout starts here. */
export interface SandboxStarted {
  type: 'started';
  id: number;
}

export interface SandboxReply {
  type: 'reply';
  id: number;
  ok: boolean;
  value?: unknown;
  error?: { code: string; message: string; status: number; details?: Record<string, unknown> | undefined };
}
