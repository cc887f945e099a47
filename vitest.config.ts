import { defineConfig } from 'vitest/config';
import LongFirst from './test/support/sequencer';

// Two layers (test/README.md):
//   unit         *.unit.test.ts: in process, no Azurite, no Key Vault emulator, no host, nothing beyond loopback
//                fakes the test serves itself; `npm run test:unit`, about 12 s
//   integration  every other *.test.ts: the real app through the host stand-in, Azurite, the emulator, the fakes;
//                each file has tables, queues, a vault and fakes of its own, so three run side by side, each
//                process slot on an Azurite of its own (support/globalSetup.ts), with the test that runs each
//                benchmark section at small sizes ("bench") among them; the scale-out test ("scale"), which
//                loads the machine by itself, runs after them, alone, on an Azurite of its own
// `npm test` runs all of it.
const shared = {
  // The core stub must exist before anything requires @azure/functions (the library caches "test mode").
  setupFiles: ['test/support/installCoreStub.ts'],
  isolate: true,
};

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summaryReporter.ts'],
    sequence: { sequencer: LongFirst },
    // The layers run side by side: the unit layer in a worker thread, the integration layer in three processes
    // (the host's function registry and the app's services are process-wide: one app per process). Three, not
    // two: most files wait more than they compute (timeouts, polling, process starts).
    poolOptions: {
      // The unit layer (the only one in threads) shares one module graph (12 s instead of 32 s): a unit test
      // keeps no state outside what it builds, mocks no module (it injects what it counts), and passes in any
      // order (--sequence.shuffle.files).
      threads: { minThreads: 1, maxThreads: 1, isolate: false },
      forks: { minForks: 1, maxForks: 3 },
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
          exclude: ['test/**/*.unit.test.ts', 'test/functions/scaleOut.test.ts', 'test/repo/bench.test.ts'],
          // One Azurite for the whole run; each test file starts its own host and Key Vault emulator.
          globalSetup: ['test/support/globalSetup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          ...shared,
          name: 'scale',
          include: ['test/functions/scaleOut.test.ts'],
          pool: 'forks',
          sequence: { groupOrder: 1 },
          globalSetup: ['test/support/globalSetup.ts'],
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          ...shared,
          name: 'bench',
          include: ['test/repo/bench.test.ts'],
          pool: 'forks',
          // Beside the integration layer: it judges no figure, and its processes fill the gaps the
          // integration files leave while they wait on Azurite.
          testTimeout: 240_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
