/**
 * Monaco for the sync file: YAML highlighting plus `monaco-yaml` (the YAML language server in a worker)
 * checking the text against the JSON Schema of a sync config, the one the CLI ships
 * (`@syncline/cli/sync.schema.json`, generated from the zod schema the CLI and the server validate with).
 * Markers at the line of a wrong key or type, completion and hover of keys. Loaded lazily with the Sync
 * screen's YAML panel; the schema is bundled and the worker is built by Vite (`?worker`): no request leaves
 * the page's origin (`enableSchemaRequest` stays off).
 */
import { configureMonacoYaml, type JSONSchema } from 'monaco-yaml';
import YamlWorker from 'monaco-yaml/yaml.worker?worker';
import 'monaco-editor/languages/definitions/yaml/register';
import syncSchema from '@syncline/cli/sync.schema.json';
import { monaco } from './monaco.js';

export { monaco };

/** The sync file's models are named `file:///syncs/<name>.yaml`; the schema applies to them alone. */
export const syncFileUri = (name: string) => monaco.Uri.parse(`file:///syncs/${encodeURIComponent(name || 'sync')}.yaml`);

type WorkerOptions = { createData?: unknown; label?: string; host?: unknown; keepIdleModels?: boolean };

/**
 * monaco-yaml 5.5 (the latest) still calls `monaco.editor.createWebWorker({ moduleId, label, createData })`,
 * the API of monaco < 0.53. Monaco 0.57 wants the Worker itself (`{ worker }`) and no longer sends
 * `createData`, so monaco-yaml alone falls back to the main thread with no language server at all
 * (monaco-yaml issue 272). This gives it the 0.57 form, as monaco's own JSON language does
 * (monaco-editor/internal/common/workers.js): the worker's first message starts it, the second is its
 * createData (what monaco-worker-manager's worker expects), then monaco's RPC.
 */
const editorApi = {
  ...monaco.editor,
  createWebWorker(opts: WorkerOptions) {
    const worker = new YamlWorker();
    worker.postMessage('ignore');
    worker.postMessage(opts.createData);
    return monaco.editor.createWebWorker({ worker, host: opts.host as never, keepIdleModels: opts.keepIdleModels ?? false });
  },
};

configureMonacoYaml({ ...monaco, editor: editorApi } as unknown as Parameters<typeof configureMonacoYaml>[0], {
  enableSchemaRequest: false,
  format: { enable: false },
  schemas: [
    {
      uri: 'file:///sync.schema.json',
      fileMatch: ['file:///syncs/*.yaml'],
      schema: syncSchema as unknown as JSONSchema,
    },
  ],
});
