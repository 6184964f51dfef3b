import { describe, expect, test } from 'vitest';
import { freshHarness } from './helpers.js';

const start = freshHarness();

describe('workflow trigger and Idempotency-Key', () => {
  test('trigger returns a workflow_run_id and identifies inline recipients and a stub tenant', async () => {
    const { knock, emulator } = await start();
    const res = await knock.workflows.trigger('welcome', { recipients: ['u0', { id: 'u1', name: 'Ann' }], tenant: 'acme', data: { a: 1 } });
    expect(res.workflow_run_id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await knock.users.get('u1')).name).toBe('Ann');
    expect((await knock.tenants.get('acme')).id).toBe('acme');
    expect(emulator.control.triggers('welcome')).toHaveLength(1);
  });

  test('a repeated Idempotency-Key replays the original 2xx for 24 h', async () => {
    const { http, emulator } = await start();
    const body = { recipients: ['u1'] };
    const headers = { 'idempotency-key': 'k-1' };
    const first = await http('POST', '/v1/workflows/welcome/trigger', { body, headers });
    const second = await http('POST', '/v1/workflows/welcome/trigger', { body, headers });
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.headers.get('original-x-request-id')).toBe(first.headers.get('x-request-id'));
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(emulator.control.triggers('welcome')).toHaveLength(1);
    const other = await http('POST', '/v1/workflows/welcome/trigger', { body, headers: { 'idempotency-key': 'k-2' } });
    expect(other.body).not.toEqual(first.body);
  });

  test('errors are not cached, and a reused key with a different body is 400', async () => {
    const { http } = await start();
    const headers = { 'idempotency-key': 'k-err' };
    expect((await http('POST', '/v1/workflows/w/trigger', { body: {}, headers })).status).toBe(422);
    const ok = await http('POST', '/v1/workflows/w/trigger', { body: { recipients: ['u1'] }, headers });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('idempotent-replayed')).toBeNull();
    const reused = await http('POST', '/v1/workflows/w/trigger', { body: { recipients: ['u2'] }, headers });
    expect(reused.status).toBe(400);
    expect(reused.body).toMatchObject({ code: 'idempotency_key_reused' });
  });

  test('Idempotency-Key is ignored on every other endpoint', async () => {
    const { http } = await start();
    const headers = { 'idempotency-key': 'same' };
    await http('PUT', '/v1/users/u1', { body: { n: 1 }, headers });
    const again = await http('PUT', '/v1/users/u1', { body: { n: 2 }, headers });
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(again.body).toMatchObject({ n: 2 });
  });
});
