import { defineConfig } from 'vitest/config';

// Two layers (test/README.md):
//   unit         *.unit.test.ts: in process, no Azurite, no Key Vault emulator, no host, nothing beyond loopback
//                fakes the test serves itself; `npm run test:unit`, under a minute
//   integration  every other *.test.ts: the real app through the host stand-in, Azurite, the emulator, the fakes
// `npm test` runs both.
const shared = {
  // The core stub must exist before anything requires @azure/functions (the library caches "test mode").
  setupFiles: ['test/support/installCoreStub.ts'],
  isolate: true,
};

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summaryReporter.ts'],
    // The layers run side by side, each one file at a time: the unit layer in worker threads, the integration
    // layer in processes of its own (the host's function registry and the app's services are process-wide, and
    // its files share Azurite's tables, so two of them at once would see each other's rows).
    poolOptions: {
      threads: { minThreads: 1, maxThreads: 1 },
      forks: { minForks: 1, maxForks: 1 },
    },
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: ['src/local/**', 'src/functions/manifest.ts'],
      reporter: ['json-summary', 'text-summary'],
      reportsDirectory: 'coverage',
      thresholds: {
        'src/sync/**': { lines: 85 },
        'src/backOffice/**': { lines: 85 },
      },
    },
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          include: ['test/**/*.unit.test.ts'],
          pool: 'threads',
          testTimeout: 15_000,
        },
      },
      {
        test: {
          ...shared,
          name: 'integration',
          include: ['test/**/*.test.ts'],
          pool: 'forks',
          exclude: ['test/**/*.unit.test.ts'],
          // One Azurite for the whole run; each test file starts its own host and Key Vault emulator.
          globalSetup: ['test/support/globalSetup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
