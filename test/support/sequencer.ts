// The order the test files start in. A fresh clone (CI) has no timings, so vitest would start the largest files
// first, and a 40 s file could start last; this starts the slowest first, by the rough cost of each file on a
// two-core machine (seconds, hooks included; the unlisted take a few), so the two integration processes end
// together. A stale figure only costs time, never a result.
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const secondsOf: Record<string, number> = {
  'test/repo/bench.test.ts': 40,
  'test/functions/recoveries.test.ts': 35,
  'test/functions/scaleOut.test.ts': 32,
  'test/infra/infra.test.ts': 30,
  'test/local/start.test.ts': 30,
  'test/repo/package.test.ts': 28,
  'test/functions/frozenDependencies.test.ts': 21,
  'test/functions/sync.test.ts': 21,
  'test/functions/connectorsBadInput.test.ts': 14,
  'test/functions/telemetry.test.ts': 10,
  'test/secrets/keyVaultSecretStore.test.ts': 10,
  'test/functions/syncOutage.test.ts': 10,
  'test/functions/frozenInFlight.test.ts': 9,
  'test/functions/batching.test.ts': 9,
};

export default class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cost = (f: TestSpecification) => secondsOf[relative(f.project.config.root, f.moduleId)] ?? 0;
    // A stable sort: the unlisted keep vitest's own order.
    return (await super.sort(files)).sort((a, b) => cost(b) - cost(a));
  }
}
