// `npm run bench` keeps working: every section builds, starts what it needs and prints its table, at sizes that
// take seconds. The figures are not judged here (benchmarks fail nothing); a section that throws is.
// Twice a section broke unnoticed when the app gained a required setting (RECOVERIES_QUEUE, AUTH_MODE).
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run, runOrThrow } from '../support/run';
import { repoRoot as root } from '../support/testApp';

const small = {
  BENCH_SYNC_CHANGES: '40',
  BENCH_COST_CHANGES: '40',
  BENCH_RECOVER_ROWS: '40',
  BENCH_LOG_ROWS: '400',
  BENCH_LOG_QUERIES: '5',
  BENCH_SCALE_CHANGES: '10',
  BENCH_SCALE_SCENARIOS: '1',
  BENCH_IDLE_SAMPLES: '2',
  BENCH_IDLE_WAIT_MS: '0',
  BENCH_IDLE_QUIET_MS: '500',
  BENCH_URI_ITERATIONS: '2000',
  BENCH_COLD_RUNS: '1',
  BENCH_CONNECTOR_OPS: '20',
};

async function runSection(section: string): Promise<{ code: number | null; out: string }> {
  const ran = await run(process.execPath, [join(root, 'dist-bench', 'test', 'bench', 'run.js'), section], {
    cwd: root,
    env: { ...process.env, ...small },
  });
  return { code: ran.status, out: `${ran.stdout}${ran.stderr}` };
}

beforeAll(async () => {
  await runOrThrow(
    process.execPath,
    [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'tsconfig.bench.json'],
    {
      cwd: root,
    },
  );
}, 120_000);

describe('npm run bench', () => {
  // The title each section prints above its table.
  const sections: Array<[string, RegExp]> = [
    ['cold-start', /^Cold start: module load time/m],
    ['uri-templates', /^URI templates: .*\n.*\n-+.*\nours \(compileUriTemplate\) +\d+ +\d+ +270\/270$/m],
    ['connectors', /^Connectors: local runtime vs bare TableClient/m],
    ['delivery-log', /^Delivery log: 400 rows/m],
    ['sync', /^Sync: 40 changes x 2 connectors/m],
    [
      'cost',
      /^Storage requests per delivery: 40 changes x 2 connectors[\s\S]*all storage requests +\d+\.\d{3} +<= 1\.5/m,
    ],
    [
      'recover',
      /^Recover: 40 failed rows of one connector sent again[\s\S]*delivered by the recovery +40 \(fake inserted 40\)/m,
    ],
    ['scale-out', /^Idle queue, one change at a time \(2\): p50 \d+ ms/m],
  ];
  // The sections run one after another from the moment the benchmark is built (one at a time: the integration
  // layer runs beside this file); each test waits for its own.
  type Run = { code: number | null; out: string };
  const settle = new Map<string, (run: Run) => void>();
  const runs = new Map(
    sections.map(([section]) => [section, new Promise<Run>((resolve) => settle.set(section, resolve))] as const),
  );
  beforeAll(() => {
    void (async () => {
      for (const [section] of sections) settle.get(section)!(await runSection(section));
    })();
  });
  for (const [section, printed] of sections)
    it(`the ${section} section runs and prints its figures`, async () => {
      const { code, out } = await runs.get(section)!;
      expect(out).toMatch(printed);
      expect(code).toBe(0);
    }, 240_000);
});
