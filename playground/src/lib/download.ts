/**
 * Saves `value` as a JSON file through the browser's download (a blob URL of the page's own origin: nothing
 * leaves the machine). Indented, so the file reads well and diffs well.
 * @example downloadJson('users.plan.json', plan.document)
 */
export function downloadJson(fileName: string, value: unknown): void {
  const url = URL.createObjectURL(new Blob([JSON.stringify(value, null, 2) + '\n'], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  // The download has its own copy once started; the URL is freed on the next turn.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
