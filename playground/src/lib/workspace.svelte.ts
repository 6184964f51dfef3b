import { api, call } from './api.js';
import { route } from './route.svelte.js';

type TablesBody = Awaited<ReturnType<typeof loadTables>>;
/** A workspace table as the server lists it (columns, types, row count). */
export type TableInfo = TablesBody['tables'][number];
/** The active Knock target: the built-in emulator or Knock with a redacted key. */
export type TargetInfo = TablesBody['target'];
/** A sync config as JSON: the same keys as `syncs/<name>.yaml`. */
export type SyncConfig = Record<string, unknown> & {
  name?: string;
  model?: string | { sql: string };
  key?: string;
  sync?: SyncBlock;
};
/** The `sync:` block of a config. */
export interface SyncBlock {
  type: 'users' | 'objects' | 'audiences';
  mode?: string;
  fields?: Record<string, string>;
  onDelete?: 'nothing' | 'delete';
  nulls?: 'send' | 'skip';
  collection?: string;
  audience?: string;
  [k: string]: unknown;
}

const loadTables = () => call(api.tables.$get());

/** The model SQL of a config (a string or `{ sql }`). */
export const modelSql = (c: SyncConfig | undefined): string => (typeof c?.model === 'string' ? c.model : (c?.model?.sql ?? ''));

/**
 * What the screens share: the workspace's tables, its syncs, the sync being edited (as the server stores it
 * in `syncs/<name>.yaml`) and the columns of the last model run. Saving writes the sync file, so a reload
 * (or the CLI) sees the same state.
 */
class Workspace {
  tables = $state<TableInfo[]>([]);
  tablesLoaded = $state(false);
  /**
   * True once the sync named in the URL (or the first) is open, or none is: until then the Model screen would
   * show and run its placeholder SQL instead of the sync's model, and save it over the sync file.
   */
  ready = $state(false);
  target = $state<TargetInfo | undefined>(undefined);
  syncs = $state<{ name: string; valid: boolean; error?: string | undefined }[]>([]);
  config = $state<SyncConfig | undefined>(undefined);
  yaml = $state('');
  /** Columns of the model's last successful run (the Sync screen maps them). */
  modelColumns = $state<{ name: string; type: string }[]>([]);
  /** The Sync screen's problems (mapped columns the model lacks, key nulls or duplicates), for the sidebar. */
  syncProblems = $state<string[]>([]);
  /** The last dry run in this page, with the sync file it ran on (a later edit makes it out of date). */
  dryRun = $state<{ yaml: string; error?: string; invalid: number } | undefined>(undefined);
  /** The status of the sync's last run (newest first in its history), if it has one. */
  lastRun = $state<string | undefined>(undefined);
  error = $state('');

  /** Loads the tables and the syncs, and picks the sync named in the URL (else the first). */
  async load(): Promise<void> {
    try {
      const [t, s] = await Promise.all([loadTables(), call(api.syncs.$get())]);
      this.tables = t.tables;
      this.target = t.target;
      this.syncs = s.syncs;
      this.tablesLoaded = true;
      const name = route.sync && s.syncs.some((x) => x.name === route.sync) ? route.sync : s.syncs[0]?.name;
      if (name) await this.open(name);
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.ready = true;
    }
  }

  async refreshTables(): Promise<void> {
    const t = await loadTables();
    this.tables = t.tables;
    this.target = t.target;
  }

  /** Opens a sync: its config becomes the state of the Model, Sync, Dry run and Runs screens. */
  async open(name: string): Promise<void> {
    const r = await call(api.syncs[':name'].$get({ param: { name } }));
    this.config = r.config as SyncConfig;
    this.yaml = r.yaml;
    this.syncProblems = [];
    this.dryRun = undefined;
    this.lastRun = undefined;
    route.set({ sync: name });
    // The sidebar's Runs dot: best effort (a sync never run has no ledger yet).
    call(api.syncs[':name'].runs.$get({ param: { name } }))
      .then((h) => route.sync === name && (this.lastRun = h.runs[0]?.status))
      .catch(() => undefined);
  }

  /**
   * Saves the edited config to `syncs/<name>.yaml`. `source` is left out so the server lists every
   * workspace table (an uploaded table is usable at once).
   */
  async save(config: SyncConfig): Promise<void> {
    const name = route.sync || config.name || 'my-sync';
    const { source: _source, ...rest } = config;
    const r = await call(api.syncs[':name'].$put({ param: { name }, json: { ...rest, name } }));
    this.saved(name, r);
  }

  /** Saves the sync file as YAML text, kept as typed (its comments too); the server checks it as `save` does. */
  async saveYaml(yaml: string): Promise<void> {
    const name = route.sync || 'my-sync';
    this.saved(name, await call(api.syncs[':name'].yaml.$put({ param: { name }, json: { yaml } })));
  }

  private saved(name: string, r: { config: unknown; yaml: string }): void {
    this.config = r.config as SyncConfig;
    this.yaml = r.yaml;
    if (!this.syncs.some((s) => s.name === name)) this.syncs = [...this.syncs, { name, valid: true }];
    route.set({ sync: name });
  }
}

/** The one workspace of the page. */
export const workspace = new Workspace();
