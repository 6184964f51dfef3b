import { isMap, isScalar, parseDocument, stringify, type Document } from 'yaml';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The YAML text of `config`, written over `previous` (the file as it was) so that what did not change keeps
 * its comments, key order, quoting and flow or block style: a sync edited in the browser stays the file its
 * author wrote. Values that changed are set in place; keys that left the config are removed; new keys are
 * appended. Without a previous text (or one that does not parse) it is plain `stringify`.
 * @example updateYaml('# prod\nkey: id  # the user id\n', { key: 'user_id' }) // '# prod\nkey: user_id # the user id\n'
 */
export function updateYaml(previous: string | undefined, config: Record<string, unknown>): string {
  if (previous === undefined) return stringify(config);
  const doc = parseDocument(previous);
  if (doc.errors.length || !isMap(doc.contents)) return stringify(config);
  mergeInto(doc, [], config);
  return doc.toString();
}

function mergeInto(doc: Document, path: string[], next: Record<string, unknown>): void {
  const node = path.length ? doc.getIn(path, true) : doc.contents;
  if (!isMap(node)) {
    doc.setIn(path, doc.createNode(next));
    return;
  }
  for (const pair of [...node.items]) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (!(key in next) || next[key] === undefined) doc.deleteIn([...path, key]);
  }
  for (const [key, value] of Object.entries(next)) {
    if (value === undefined) continue;
    const at = [...path, key];
    const current = doc.getIn(at, true);
    if (isObject(value) && isMap(current)) mergeInto(doc, at, value);
    else if (!sameValue(current, value)) {
      // A scalar keeps its node (and so its comment), only the value changes.
      if (isScalar(current) && !isObject(value) && !Array.isArray(value)) current.value = value;
      else doc.setIn(at, doc.createNode(value));
    }
  }
}

function sameValue(node: unknown, value: unknown): boolean {
  if (node === undefined) return false;
  const js = (node as { toJSON?: () => unknown }).toJSON?.() ?? (isScalar(node) ? node.value : node);
  return JSON.stringify(js as Json) === JSON.stringify(value as Json);
}
