import type { LoadedConfig } from './load-config.js';

/** An error of a run or plan that the user fixes in the config: the text for stderr and the exit code. */
export interface ConfigProblem {
  text: string;
  exit: number;
}

type RunError = { code: string; message: string; details?: Record<string, unknown> | undefined };

/**
 * Turns an error found after the config parsed into `file:line:col path: problem` at the YAML node to fix
 * (ux.md §1; exit 2): a mapped or key column not in the model (with the model's columns), a model SQL error
 * (at its line inside the config), and a table file read with the wrong CSV options (with the options to use).
 * An empty data file is located too but stays exit 3: no config change fixes it. Undefined for other errors.
 */
export function configProblem(config: LoadedConfig, error: RunError): ConfigProblem | undefined {
  const d = error.details ?? {};
  if (error.code === 'mapping_invalid' && typeof d.path === 'string') {
    const columns = Array.isArray(d.columns) ? (d.columns as string[]) : [];
    const text = [
      ...(columns.length ? [`  the model's columns: ${columns.join(', ')}`] : []),
      `Error: ${config.locate(d.path.split('.'))} ${error.message}`,
    ];
    return { text: text.join('\n') + '\n', exit: 2 };
  }
  // A file the sandbox refuses (Permission Error) stays a failed run (exit 3), as before: the model is
  // well-formed; what it reads is not allowed.
  if (
    error.code === 'model_failed' &&
    typeof d.line === 'number' &&
    typeof d.column === 'number' &&
    !/Permission Error/.test(error.message)
  ) {
    const sql = config.spec.model.split('\n')[d.line - 1] ?? '';
    return {
      text: `  ${sql.trim()}\nError: ${config.locateModel(d.line, d.column)} model: ${error.message.replace(/^model query failed: /, '')}\n`,
      exit: 2,
    };
  }
  if (error.code === 'source_failed' && typeof d.table === 'string' && typeof d.reason === 'string') {
    const at = config.locate(['source', 'tables', d.table]);
    const message = error.message.replace(/^\[duckdb\] /, '').replace(/; read it with the table options .*$/, '');
    const options = d.options as Record<string, unknown> | undefined;
    const text = options
      ? [
          '  use the table form in the config (see the CLI README, "Tables"):',
          `    ${d.table}: { file: ${JSON.stringify(d.file)}, ${Object.entries(options)
            .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
            .join(', ')} }`,
          `Error: ${at} source.tables.${d.table}: ${message}`,
        ]
      : [`Error: ${at} source.tables.${d.table}: ${message}`];
    return { text: text.join('\n') + '\n', exit: d.reason === 'empty' ? 3 : 2 };
  }
  return undefined;
}
