import { fork, type ChildProcess } from 'node:child_process';
import { ApiError } from './api-error.js';
import { childEntry, childEnv } from './child-entry.js';
import type {
  Completions,
  QueryResult,
  SandboxReply,
  SandboxRequest,
  SandboxStarted,
  SandboxTable,
  TableInfo,
} from './sandbox-protocol.js';
import type { ResultProfile } from './profile-columns.js';

/** Options of {@link createSqlSandbox}. */
export interface SqlSandboxOptions {
  /** The workspace: the only directory user SQL may read. */
  dir: string;
  /** Tables (workspace files) visible to user SQL. */
  tables: () => SandboxTable[];
  /** A statement is interrupted after this long. Default 30 s. */
  timeoutMs?: number;
  /** DuckDB `memory_limit` of the sandbox. Default `1GB`. */
  memoryLimit?: string;
  /** DuckDB threads of the sandbox. Default 2. */
  threads?: number;
  /** Statements that run at once (one DuckDB connection each). Default 4. */
  connections?: number;
  /** Told when the sandbox process had to be replaced (crash or hang). */
  onReplace?: (reason: string) => void;
}

/** User SQL, run in a locked-down DuckDB in a child process. */
export interface SqlSandbox {
  /** `signal`: the statement is interrupted when it aborts (the caller stopped it, or its client went away). */
  query(sql: string, limit: number, signal?: AbortSignal): Promise<QueryResult>;
  /** Per column of the statement's whole result: nulls, distinct values, min/max, top values (see profile-columns.ts). */
  profile(sql: string, signal?: AbortSignal): Promise<ResultProfile>;
  /** Re-reads the workspace's tables (after an upload or a drop) and describes them. */
  refresh(): Promise<TableInfo[]>;
  completions(): Promise<Completions>;
  /** Test hook: makes the sandbox process abort, as a native crash would. */
  crashForTest(): Promise<unknown>;
  close(): Promise<void>;
}

const GRACE_MS = 2_000;

/** A request without its id (distributed over the union's members). */
type Unsent = SandboxRequest extends infer R ? (R extends SandboxRequest ? Omit<R, 'id'> : never) : never;

/**
 * Starts the SQL sandbox lazily on first use. A statement past `timeoutMs` is interrupted (DuckDB's
 * `interrupt()`); if the process does not answer within a grace period after that, or crashes, it is
 * killed and replaced, and the statement fails with a clear error.
 * @example const sandbox = createSqlSandbox({ dir, tables: () => listTables(dir) }); await sandbox.query('select 1', 100)
 */
export function createSqlSandbox(options: SqlSandboxOptions): SqlSandbox {
  const timeoutMs = options.timeoutMs ?? 30_000;
  let child: ChildProcess | undefined;
  let ready: Promise<ChildProcess> | undefined;
  let nextId = 1;
  const pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; child: ChildProcess; started?: () => void }
  >();

  const failAll = (c: ChildProcess, error: ApiError): void => {
    for (const [id, p] of pending)
      if (p.child === c) {
        pending.delete(id);
        p.reject(error);
      }
  };

  const start = (): Promise<ChildProcess> => {
    const { file, execArgv } = childEntry('sandbox-process');
    const c = fork(file, [], { execArgv, env: childEnv(), stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    child = c;
    const started = new Promise<ChildProcess>((resolve, reject) => {
      pending.set(0, { resolve: () => resolve(c), reject, child: c });
    });
    c.on('message', (m: SandboxReply | SandboxStarted) => {
      const p = pending.get(m.id);
      if (!p) return;
      if (m.type === 'started') return p.started?.();
      pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new ApiError(m.error!.code as never, m.error!.message, m.error!.status, m.error!.details));
    });
    c.on('exit', (code, signal) => {
      if (child === c) {
        child = undefined;
        ready = undefined;
      }
      const reason = `the SQL sandbox process stopped (${signal ?? `exit ${code}`}); it is replaced on the next statement`;
      if (pending.size) options.onReplace?.(reason + (stderr ? `: ${stderr.trim().split('\n').pop()}` : ''));
      failAll(c, new ApiError('sandbox_crashed', reason, 500));
    });
    c.send({
      type: 'init',
      dir: options.dir,
      memoryLimit: options.memoryLimit ?? '1GB',
      threads: options.threads ?? 2,
      connections: options.connections ?? 4,
      tables: options.tables(),
    });
    return started;
  };

  const call = async <T>(message: Unsent, timed: boolean, signal?: AbortSignal): Promise<T> => {
    signal?.throwIfAborted();
    ready ??= start();
    const c = await ready;
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      let hung: NodeJS.Timeout | undefined;
      let timer: NodeJS.Timeout | undefined;
      /** Why the statement was interrupted: its timeout, or its caller. */
      let why: 'timeout' | 'stopped' | undefined;
      const stopped = (): ApiError => new ApiError('query_stopped', 'the statement was stopped before it finished', 499);
      const interrupt = (reason: 'timeout' | 'stopped'): void => {
        if (why || !pending.has(id)) return;
        why = reason;
        c.send({ type: 'interrupt', id });
        hung = setTimeout(() => {
          options.onReplace?.(`the SQL sandbox did not stop a statement within ${GRACE_MS} ms of its interrupt; replaced`);
          const p = pending.get(id);
          pending.delete(id);
          c.kill('SIGKILL');
          p?.reject(
            reason === 'stopped'
              ? stopped()
              : new ApiError(
                  'query_timeout',
                  `the statement ran past ${timeoutMs} ms and the sandbox did not stop it; the sandbox was replaced`,
                  504,
                ),
          );
        }, GRACE_MS);
      };
      // The timeout counts from when the statement starts running in the sandbox, not while it waits for
      // a free connection behind others.
      let running = false;
      const started = (): void => {
        running = true;
        // Stopped while it waited for a connection (or for the sandbox to start): the sandbox can only
        // interrupt a running statement, so it is interrupted as it starts.
        if (signal?.aborted) return interrupt('stopped');
        if (timed) timer = setTimeout(() => interrupt('timeout'), timeoutMs);
      };
      const onAbort = (): void => {
        if (running) interrupt('stopped');
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => {
        clearTimeout(timer);
        clearTimeout(hung);
        signal?.removeEventListener('abort', onAbort);
      };
      pending.set(id, {
        child: c,
        started,
        resolve: (v) => (done(), resolve(v as T)),
        reject: (e) => {
          done();
          // An interrupted statement reports "INTERRUPT Error"; say why it was interrupted.
          if (/interrupt/i.test(e.message) && why === 'stopped') reject(stopped());
          else if (/interrupt/i.test(e.message) && timed)
            reject(
              new ApiError('query_timeout', `the statement was interrupted after ${timeoutMs} ms (the sandbox's statement timeout)`, 504),
            );
          else reject(e);
        },
      });
      c.send({ ...message, id });
    });
  };

  return {
    query: (sql, limit, signal) => call<QueryResult>({ type: 'query', sql, limit }, true, signal),
    profile: (sql, signal) => call<ResultProfile>({ type: 'profile', sql }, true, signal),
    refresh: () => call<TableInfo[]>({ type: 'tables', tables: options.tables() }, false),
    completions: () => call<Completions>({ type: 'completions' }, false),
    crashForTest: () => call({ type: 'crash' }, false),
    async close() {
      const c = child;
      child = undefined;
      ready = undefined;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((r) => {
        c.once('exit', () => r());
        c.kill('SIGKILL');
      });
    },
  };
}
