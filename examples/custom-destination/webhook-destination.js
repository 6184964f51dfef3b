// A destination written outside packages/: it posts each batch of changes as JSON to the sync's `url`.
// Plain JavaScript (types checked from the JSDoc), so that `syncline plan/run` can load it from a config:
// destination: { type: module, module: ./webhook-destination.js }
// @ts-check
import { z } from 'zod';

let seq = 0;
/** @type {import('@syncline/core').Destination<{ url: string }>} */
export const webhookDestination = {
  name: 'webhook',
  targetSchema: z.strictObject({ url: z.url() }), // its keys of the config's `sync:` block
  fields: () => [],
  validate: () => [],
  plan: (changes, { target }) => {
    const skipped = changes.filter((c) => c.action === 'remove' && target.onDelete !== 'delete');
    const send = changes.filter((c) => !skipped.includes(c));
    return { operations: send.length ? [{ id: `w${++seq}`, endpoint: `POST ${target.url}`, changes: send }] : [], skipped };
  },
  async apply(op, { target, signal }) {
    const body = JSON.stringify(op.changes.map((c) => ({ action: c.action, key: c.key, payload: c.payload })));
    const res = await fetch(target.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: signal ?? null });
    const keys = op.changes.map((c) => c.key);
    if (res.ok) return { ok: keys, failed: [], requests: 1 };
    return {
      ok: [],
      failed: keys.map((key) => ({ key, code: 'http_error', message: `HTTP ${res.status}`, status: res.status })),
      requests: 1,
    };
  },
};
