import { describe, expect, test } from 'vitest';
import { freshHarness, until, withHarness } from './helpers.js';

const start = freshHarness({ bulkDelayMs: 60 });

describe('bulk operations', () => {
  test('move queued → processing → completed and fill the timestamps', async () => {
    const { knock, emulator } = await start();
    const op = await knock.users.bulk.identify({ users: [{ id: 'a' }] });
    expect(op.progress_path).toBe(`${emulator.url}/v1/bulk_operations/${op.id}`);
    expect(op).toMatchObject({ status: 'queued', started_at: null, completed_at: null, failed_at: null });
    const seen = new Set<string>([op.status]);
    const done = await until(async () => {
      const current = await knock.bulkOperations.get(op.id);
      seen.add(current.status);
      return current.status === 'completed' && current;
    });
    expect([...seen]).toEqual(['queued', 'processing', 'completed']);
    expect(Date.parse(done.completed_at!)).toBeGreaterThanOrEqual(Date.parse(done.started_at!));
  });

  test('an unknown bulk operation is 404', async () => {
    const { http } = await start();
    expect((await http('GET', '/v1/bulk_operations/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  test('items breaking the id rules complete as error_items by default', async () => {
    const { knock } = await start();
    const op = await knock.users.bulk.identify({ users: [{ id: 'ok' }, { id: 'bad/id' }, { id: 'x'.repeat(300) }] });
    const done = await until(async () => {
      const current = await knock.bulkOperations.get(op.id);
      return current.status === 'completed' && current;
    });
    expect(done).toMatchObject({
      processed_rows: 3,
      success_count: 1,
      error_count: 2,
      error_items: [
        { id: 'bad/id', collection: null },
        { id: 'x'.repeat(300), collection: null },
      ],
    });
  });

  test('the sync switch rejects the whole request with 422 instead', async () => {
    await withHarness({ switches: { bulkItemValidation: 'sync' } }, async ({ http }) => {
      const res = await http('POST', '/v1/users/bulk/identify', { body: { users: [{ id: 'ok' }, { id: 'bad#id' }] } });
      expect(res.status).toBe(422);
      expect(res.body).toMatchObject({ code: 'invalid_params', errors: [{ field: 'users[1].id', type: 'format' }] });
    });
  });

  test('POST /__emulator/bulk/flush applies pending jobs at once', async () => {
    const { knock, http } = await start();
    await knock.users.bulk.identify({ users: [{ id: 'f1', name: 'F' }] });
    const flushed = await http('POST', '/__emulator/bulk/flush');
    expect(flushed.body).toEqual({ flushed: 1 });
    expect((await knock.users.get('f1')).name).toBe('F');
  });
});

describe('bulk faults', () => {
  test('stall keeps jobs processing until released', async () => {
    const { knock, emulator } = await start();
    emulator.control.setBulkFaults({ stall: true });
    const op = await knock.users.bulk.identify({ users: [{ id: 's1' }] });
    await new Promise((r) => setTimeout(r, 150));
    expect((await knock.bulkOperations.get(op.id)).status).toBe('processing');
    expect(emulator.control.flushBulk()).toBe(0);
    emulator.control.setBulkFaults({});
    expect((await knock.bulkOperations.get(op.id)).status).toBe('completed');
  });

  test('holdPolls keeps a job processing for N polls, then it completes', async () => {
    const { knock, http } = await start();
    await http('PUT', '/__emulator/bulk/faults', { body: { holdPolls: 3 } });
    const op = await knock.users.bulk.identify({ users: [{ id: 'h1' }] });
    await new Promise((r) => setTimeout(r, 120));
    const statuses: string[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await knock.bulkOperations.get(op.id)).status);
    expect(statuses).toEqual(['processing', 'processing', 'processing', 'completed']);
  });

  test('failItemIds lands those ids in error_items and applies the rest', async () => {
    const { knock, emulator } = await start();
    emulator.control.setBulkFaults({ failItemIds: ['u2', 'u3'] });
    const op = await knock.users.bulk.identify({ users: [{ id: 'u1' }, { id: 'u2' }, { id: 'u3' }] });
    emulator.control.flushBulk();
    expect(await knock.bulkOperations.get(op.id)).toMatchObject({
      status: 'completed',
      success_count: 1,
      error_count: 2,
      error_items: [{ id: 'u2' }, { id: 'u3' }],
    });
    await expect(knock.users.get('u2')).rejects.toMatchObject({ status: 404 });
    expect((await knock.users.get('u1')).id).toBe('u1');
  });

  test('failJobs makes the next N jobs fail whole and apply nothing', async () => {
    const { knock, emulator } = await start();
    emulator.control.setBulkFaults({ failJobs: 1 });
    const failed = await knock.users.bulk.identify({ users: [{ id: 'j1' }] });
    const ok = await knock.users.bulk.identify({ users: [{ id: 'j2' }] });
    emulator.control.flushBulk();
    const f = await knock.bulkOperations.get(failed.id);
    expect(f).toMatchObject({ status: 'failed', processed_rows: 0, success_count: 0 });
    expect(f.failed_at).not.toBeNull();
    expect((await knock.bulkOperations.get(ok.id)).status).toBe('completed');
    await expect(knock.users.get('j1')).rejects.toMatchObject({ status: 404 });
  });
});

describe('jobs apply when they complete (bulk upserts are merged early and rolled back when observed)', () => {
  const done = async (h: Awaited<ReturnType<typeof start>>, id: string) =>
    until(async () => (await h.knock.bulkOperations.get(id)).status === 'completed');

  test('a pending job is invisible, then visible once completed', async () => {
    const h = await start();
    const op = await h.knock.users.bulk.identify({ users: [{ id: 'e1', name: 'E' }] });
    expect((await h.http('GET', '/v1/users/e1')).status).toBe(404);
    await done(h, op.id);
    expect(await h.knock.users.get('e1')).toMatchObject({ id: 'e1', name: 'E' });
  });

  test('a read while pending sees the old state exactly; the job then merges as usual', async () => {
    const h = await start();
    await h.http('PUT', '/v1/users/u2', { body: { name: 'A', company: { id: 'c1' } } });
    const op = await h.knock.users.bulk.identify({ users: [{ id: 'u2', name: 'B', company: { region: 'eu' }, extra: 1 } as never] });
    const before = (await h.http('GET', '/v1/users/u2')).body as Record<string, unknown>;
    expect(before).toMatchObject({ name: 'A', company: { id: 'c1' } });
    expect(before).not.toHaveProperty('extra');
    expect(before['company']).toEqual({ id: 'c1' });
    await done(h, op.id);
    const after = (await h.http('GET', '/v1/users/u2')).body as Record<string, unknown>;
    expect(after).toMatchObject({ name: 'B', extra: 1, company: { id: 'c1', region: 'eu' } });
    expect(Date.parse(after['updated_at'] as string)).toBeGreaterThanOrEqual(Date.parse(before['updated_at'] as string));
  });

  test('a write while pending is overwritten by the job when it completes, even with values unchanged at request time', async () => {
    const h = await start();
    await h.http('PUT', '/v1/users/u3', { body: { plan: 'pro', name: 'N' } });
    const op = await h.knock.users.bulk.identify({ users: [{ id: 'u3', plan: 'pro', seats: 3 } as never] });
    await h.http('PUT', '/v1/users/u3', { body: { plan: 'free' } });
    await done(h, op.id);
    expect((await h.http('GET', '/v1/users/u3')).body).toMatchObject({ plan: 'pro', seats: 3, name: 'N' });
  });

  test('several pending jobs on the same user apply in order', async () => {
    const h = await start();
    const a = await h.knock.users.bulk.identify({ users: [{ id: 'u4', n: 1, first: true } as never] });
    const b = await h.knock.users.bulk.identify({ users: [{ id: 'u4', n: 2 } as never] });
    await done(h, a.id);
    await done(h, b.id);
    expect((await h.http('GET', '/v1/users/u4')).body).toMatchObject({ n: 2, first: true });
    const c = await h.knock.users.bulk.identify({ users: [{ id: 'u4', n: 3 } as never] });
    h.emulator.control.setBulkFaults({ failItemIds: ['u4'] });
    await done(h, c.id);
    expect(await h.knock.bulkOperations.get(c.id)).toMatchObject({ success_count: 0, error_items: [{ id: 'u4' }] });
    expect((await h.http('GET', '/v1/users/u4')).body).toMatchObject({ n: 2 });
  });
});
