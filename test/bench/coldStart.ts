// Cold start: time to load the built entry (with the core stub, as in Azure) beside @azure/functions alone,
// each in a fresh Node process, median of several runs.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { median, printTable } from './report';

const runs = Number(process.env.BENCH_COLD_RUNS ?? 15);

function measure(root: string, script: string): number[] {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
    samples.push(Number(out.trim().split('\n').at(-1)));
  }
  return samples;
}

export function benchColdStart(root: string): void {
  const stub = join(root, 'dist-bench', 'src', 'local', 'coreStub.js');
  const entry = join(root, 'dist-bench', 'src', 'index.js');
  const timed = (body: string) =>
    `require(${JSON.stringify(stub)}).installCoreStub(); const t = process.hrtime.bigint(); ${body}; console.log(Number(process.hrtime.bigint() - t) / 1e6)`;
  const library = measure(root, timed(`require('@azure/functions')`));
  const app = measure(root, timed(`require(${JSON.stringify(entry)})`));
  const sdks = measure(
    root,
    timed(
      `['@azure/functions','zod','@azure/data-tables','@azure/storage-queue','@azure/keyvault-secrets','@azure/identity','@azure/msal-node'].forEach((m) => require(m))`,
    ),
  );
  const loaded = execFileSync(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(stub)}).installCoreStub(); require(${JSON.stringify(entry)}); console.log(Object.keys(require.cache).filter((k) => /node_modules[\\\\/](zod|@azure[\\\\/](data-tables|storage-queue|keyvault-secrets|identity|msal-node))/.test(k)).length)`,
    ],
    { cwd: root, encoding: 'utf8' },
  ).trim();
  const lib = median(library);
  printTable(
    `Cold start: module load time (median of ${runs} fresh processes)`,
    ['what', 'ms', 'x @azure/functions'],
    [
      ['@azure/functions alone', lib.toFixed(1), '1.00'],
      ['our entry (dist/src/index.js)', median(app).toFixed(1), (median(app) / lib).toFixed(2)],
      ['@azure/functions + zod + every Azure SDK we use', median(sdks).toFixed(1), (median(sdks) / lib).toFixed(2)],
    ],
  );
  console.log(`Goal: entry <= 1.3x @azure/functions. SDK/zod modules loaded by the entry: ${loaded} (should be 0).`);
}
