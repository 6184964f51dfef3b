/**
 * Monaco, loaded lazily by the Model screen: the editor core, the SQL language and the editor worker,
 * all bundled by Vite (no CDN, no request outside the page's origin).
 */
import * as monaco from 'monaco-editor/editor/editor.api';
import 'monaco-editor/languages/definitions/sql/register';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';

self.MonacoEnvironment = { getWorker: () => new EditorWorker() };

export { monaco };

/** Completion items for DuckDB SQL: the workspace's tables and columns, DuckDB functions and keywords. */
export interface Completions {
  tables: { name: string; columns: { name: string; type: string }[] }[];
  functions: { name: string; type: string }[];
  keywords: string[];
}

let provider: monaco.IDisposable | undefined;

/** Registers (once, replacing the previous) the completion of tables, columns, functions and keywords. */
export function useCompletions(c: Completions): void {
  provider?.dispose();
  provider = monaco.languages.registerCompletionItemProvider('sql', {
    provideCompletionItems(model, position) {
      const word = model.getWordUntilPosition(position);
      const range = new monaco.Range(position.lineNumber, word.startColumn, position.lineNumber, word.endColumn);
      const K = monaco.languages.CompletionItemKind;
      const columns = new Map<string, string>();
      for (const t of c.tables) for (const col of t.columns) columns.set(col.name, `${col.type} · ${t.name}`);
      return {
        suggestions: [
          ...c.tables.map((t) => ({ label: t.name, kind: K.Struct, insertText: t.name, detail: 'table', range })),
          ...[...columns].map(([name, detail]) => ({ label: name, kind: K.Field, insertText: name, detail, range })),
          ...c.functions.map((f) => ({ label: f.name, kind: K.Function, insertText: f.name, detail: f.type, range })),
          ...c.keywords.map((k) => ({ label: k, kind: K.Keyword, insertText: k, range })),
        ],
      };
    },
  });
}
