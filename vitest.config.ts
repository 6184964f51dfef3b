import { defineConfig } from 'vitest/config';

// Tests run against package sources through the "@syncline/source" export condition (no build step).
// Not 'import': vitest passes these to Node as --conditions, and with 'import' a CommonJS require() of a dual package
// (pg → pg-pool) would get its ESM build. Vite adds import/require/default by itself.
const conditions = ['@syncline/source', 'module', 'node', 'development|production'];
const packages = [
  'core',
  'knock-wire',
  'source-duckdb',
  'source-postgres',
  'destination-knock',
  'knock-emulator',
  'alerts',
  'cli',
  'test-utils',
  'server',
];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['@syncline/source'] } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      ...packages.map((name) => ({
        extends: true,
        test: { name, include: [`packages/${name}/test/**/*.test.ts`] },
      })),
      // Real Chromium against the real `syncline serve`: slower steps, generous limits for a loaded machine.
      {
        extends: true,
        test: {
          name: 'playground',
          include: ['playground/test/**/*.test.ts'],
          globalSetup: ['playground/test/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
