import { defineConfig } from 'vitest/config';

// Tests run against package sources through the "@syncline/source" export condition (no build step).
const conditions = ['@syncline/source', 'import', 'module', 'node', 'default'];
const packages = ['core', 'knock-wire', 'source-duckdb', 'destination-knock', 'knock-emulator', 'alerts', 'cli', 'test-utils', 'server'];

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
        test: { name: 'playground', include: ['playground/test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 240_000 },
      },
    ],
  },
});
