import type { KnockTarget } from './knock-target.js';
import type { RunManager } from './run-manager.js';
import type { SqlSandbox } from './sql-sandbox.js';
import type { Workspace } from './workspace.js';

/** What the route modules share. */
export interface ServerContext {
  ws: Workspace;
  sandbox: SqlSandbox;
  target: KnockTarget;
  runs: RunManager;
  version: string;
  uploadLimitBytes: number;
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  /** Each scheduled sync's next run time (`syncline serve` runs the workspace's schedules). */
  nextRuns(): Map<string, Date | undefined>;
}
