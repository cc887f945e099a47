import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One Azurite for the whole run; each test file starts its own host and Key Vault emulator.
    globalSetup: ['test/support/globalSetup.ts'],
    // The core stub must exist before anything requires @azure/functions (the library caches "test mode").
    setupFiles: ['test/support/installCoreStub.ts'],
    // A fresh process per file: the host's function registry and the app's services are process-wide.
    pool: 'forks',
    isolate: true,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default', './test/support/summaryReporter.ts'],
  },
});
