// The order the test files start in. A fresh clone (CI) has no timings, so vitest would start the largest files
// first, and a 40 s file could start last. This starts the long files first, each beside one that mostly waits
// (on a frozen dependency, an outage, a lease), so the start of the run is not all computing at once and its end
// is not all waiting; then the rest in vitest's order. A stale list only costs time, never a result.
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export const startFirst = [
  'test/repo/bench.test.ts',
  'test/functions/frozenDependencies.test.ts',
  'test/functions/recoveries.test.ts',
  'test/functions/syncOutage.test.ts',
  'test/infra/infra.test.ts',
  'test/secrets/keyVaultSecretStore.test.ts',
  'test/local/start.test.ts',
  'test/functions/frozenInFlight.test.ts',
  'test/repo/package.test.ts',
  'test/functions/sync.test.ts',
  'test/functions/connectorsBadInput.test.ts',
  'test/functions/telemetry.test.ts',
  'test/functions/batching.test.ts',
];

export default class LongFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const at = startFirst.indexOf(relative(f.project.config.root, f.moduleId));
      return at < 0 ? startFirst.length : at;
    };
    // A stable sort: the unlisted keep vitest's own order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
