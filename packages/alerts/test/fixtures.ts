import { alertChannelSchema, alertMessage, type AlertChannelConfig, type AlertChannelInput, type AlertMessage } from '../src/index.js';

/** A failed-rows run as core's run loop reports it. */
export const partialRun = {
  runId: 'r_test1',
  sync: 'users',
  status: 'partial',
  rows: { added: 10, changed: 2, removed: 0, synced: 9, failed: 2, invalid: 1 },
  failures: [
    { key: 'u_7', code: 'invalid_params', message: 'email is not a valid email address' },
    { key: 'u_9', code: 'http_422', message: 'phone_number: must be E.164' },
  ],
  invalid: [{ key: 'u_11', field: 'email', rule: 'email', message: 'email is not a valid email address' }],
};

/** The alert every channel test sends: fixed time, so payloads are exact. */
export const rowFailuresAlert: AlertMessage = alertMessage({
  event: 'row_failures',
  run: partialRun,
  configFile: 'syncs/users.yaml',
  at: '2026-12-07T00:00:00.000Z',
});

export const parse = (input: AlertChannelInput): AlertChannelConfig => alertChannelSchema.parse(input);

/** Runs as core reports them. */
export const failedRun = (runId: string) => ({
  runId,
  sync: 'users',
  status: 'failed',
  rows: { added: 0, changed: 0, removed: 0, synced: 0, failed: 0, invalid: 0 },
  error: { code: 'auth_failed', message: '[knock] the API key was rejected (401)' },
});
export const goodRun = (runId: string) => ({
  runId,
  sync: 'users',
  status: 'succeeded',
  rows: { added: 3, changed: 0, removed: 0, synced: 3, failed: 0, invalid: 0 },
});
