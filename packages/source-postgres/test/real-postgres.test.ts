import { describe, expect, test } from 'vitest';
import { server, useRealPostgres } from './real-server.js';
import { postgresSource } from '../src/index.js';
import { typeMappingTests } from './type-cases.js';

describe.skipIf(server.skip)('postgresSource on a real PostgreSQL server', () => {
  const db = useRealPostgres();

  typeMappingTests(() => db().url);

  test('an abort cancels the running model on the server', async () => {
    const source = postgresSource({ url: db().url });
    try {
      const signal = AbortSignal.timeout(300);
      const t0 = Date.now();
      const read = async () => {
        for await (const b of source.read('SELECT pg_sleep(30) AS slept', { signal })) void b;
      };
      await expect(read()).rejects.toMatchObject({ code: 'aborted' });
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      await source.close?.();
    }
  });

  test('TLS: ssl options replace the URL; a server without TLS refuses a TLS connection clearly', async () => {
    const source = postgresSource({ url: `${db().url}?sslmode=disable`, ssl: { rejectUnauthorized: true } });
    try {
      await expect(source.describe('SELECT 1 AS id')).rejects.toThrow(
        /^\[postgres\] cannot connect to 127\.0\.0\.1:\d+\/postgres: The server does not support SSL connections/,
      );
    } finally {
      await source.close?.();
    }
    const missing = postgresSource({ url: db().url, ssl: { ca: 'no-such-ca.pem' } });
    await expect(missing.describe('SELECT 1 AS id')).rejects.toThrow(/^\[postgres\] option "ssl\.ca": cannot read no-such-ca\.pem: /);
    await missing.close?.();
  });
});
