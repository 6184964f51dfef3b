import { expect, test } from 'vitest';
import { stepStatus, type StepFacts } from '../src/lib/step-status.js';

// ux.md §4: the sidebar's dot per step (done / needs attention / blocked). Blocked follows from the steps
// before: a dry run needs a sync without problems, a sync needs a model, a model needs a table.
const ready: StepFacts = {
  tables: 2,
  model: 'select * from users',
  modelColumns: ['id', 'email'],
  key: 'id',
  mappedFields: 1,
  syncProblems: [],
  dryRun: undefined,
  lastRun: undefined,
};
const states = (f: Partial<StepFacts>) => Object.values(stepStatus({ ...ready, ...f })).map((s) => s.state);

test('a fresh workspace with a good sync: data, model and sync done; dry run and runs not yet', () => {
  expect(states({})).toEqual(['done', 'done', 'done', 'todo', 'todo']);
});

test('each missing step blocks the ones after it', () => {
  expect(states({ tables: 0 })).toEqual(['attention', 'blocked', 'blocked', 'blocked', 'blocked']);
  expect(states({ model: ' ' })).toEqual(['done', 'todo', 'blocked', 'blocked', 'blocked']);
  expect(states({ syncProblems: ['email ← emial: no such column in the model'] })).toEqual([
    'done',
    'done',
    'attention',
    'blocked',
    'blocked',
  ]);
  expect(states({ key: undefined })).toEqual(['done', 'done', 'attention', 'blocked', 'blocked']);
  expect(states({ mappedFields: 0 })).toEqual(['done', 'done', 'attention', 'blocked', 'blocked']);
});

test('a dry run and the last run set their own dots, with the reason', () => {
  expect(states({ dryRun: { invalid: 0 }, lastRun: 'succeeded' })).toEqual(['done', 'done', 'done', 'done', 'done']);
  const s = stepStatus({ ...ready, dryRun: { invalid: 3 }, lastRun: 'partial' });
  expect(s['/dry-run']).toEqual({ state: 'attention', reason: '3 invalid rows' });
  expect(s['/runs']).toEqual({ state: 'attention', reason: 'last run partial' });
  expect(stepStatus({ ...ready, dryRun: { error: 'column "phone" not in model', invalid: 0 } })['/dry-run'].state).toBe('attention');
  expect(stepStatus({ ...ready, lastRun: 'running' })['/runs'].state).toBe('todo');
});
