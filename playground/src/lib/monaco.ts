/**
 * Monaco, loaded lazily by the Model screen: the editor core, the SQL language and the editor worker,
 * all bundled by Vite (no CDN, no request outside the page's origin).
 */
import * as monaco from 'monaco-editor/editor/editor.api';
// editor.api is the bare editor; these are the contributions a SQL editor needs (editor.main would bring
// every language and feature): completion, hover (marker messages), F8 to the next error, find, comments,
// bracket matching, line operations, multi-cursor, word highlight, snippets, clipboard and the context menu.
import 'monaco-editor/editor/contrib/suggest/browser/suggestController';
import 'monaco-editor/editor/contrib/snippet/browser/snippetController2';
import 'monaco-editor/editor/contrib/hover/browser/hoverContribution';
import 'monaco-editor/editor/contrib/gotoError/browser/gotoError';
import 'monaco-editor/editor/contrib/find/browser/findController';
import 'monaco-editor/editor/contrib/comment/browser/comment';
import 'monaco-editor/editor/contrib/bracketMatching/browser/bracketMatching';
import 'monaco-editor/editor/contrib/linesOperations/browser/linesOperations';
import 'monaco-editor/editor/contrib/multicursor/browser/multicursor';
import 'monaco-editor/editor/contrib/wordHighlighter/browser/wordHighlighter';
import 'monaco-editor/editor/contrib/clipboard/browser/clipboard';
import 'monaco-editor/editor/contrib/contextmenu/browser/contextmenu';
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
