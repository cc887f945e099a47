// Cold start: time to load the built entry (with the core stub, as in Azure) beside @azure/functions alone,
// each in a fresh Node process, median of several runs.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { median, printTable } from './report';

const runs = Number(process.env.BENCH_COLD_RUNS ?? 15);

/** A local OTLP endpoint nobody listens on: telemetry is configured, nothing is sent while measuring. */
const TELEMETRY_ON = { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' };

function measure(root: string, script: string, env: NodeJS.ProcessEnv = process.env): number[] {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', env });
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
  const sdk = join(root, 'dist-bench', 'src', 'platform', 'telemetrySdk.js');
  const withTelemetry = measure(root, timed(`require(${JSON.stringify(entry)})`), TELEMETRY_ON);
  // What the first invocation waits for: the entry, then the SDK the entry started loading.
  const telemetryReady = measure(
    root,
    `require(${JSON.stringify(stub)}).installCoreStub(); const t = process.hrtime.bigint(); require(${JSON.stringify(entry)}); import(${JSON.stringify(sdk)}).then(() => { console.log(Number(process.hrtime.bigint() - t) / 1e6); process.exit(0); })`,
    TELEMETRY_ON,
  );
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
  const otelLoadedWhenOff = execFileSync(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(stub)}).installCoreStub(); require(${JSON.stringify(entry)}); setTimeout(() => console.log(Object.keys(require.cache).filter((k) => /node_modules[\\/]@(opentelemetry|azure[\\/](monitor|functions-opentelemetry))/.test(k)).length), 500)`,
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
      ['our entry, telemetry configured', median(withTelemetry).toFixed(1), (median(withTelemetry) / lib).toFixed(2)],
      [
        '  ... and the SDK ready (the first invocation waits for it)',
        median(telemetryReady).toFixed(1),
        (median(telemetryReady) / lib).toFixed(2),
      ],
      ['@azure/functions + zod + every Azure SDK we use', median(sdks).toFixed(1), (median(sdks) / lib).toFixed(2)],
    ],
  );
  console.log(
    `Goals: entry <= 1.3x @azure/functions, <= 1.5x with telemetry configured. SDK/zod modules loaded by the entry: ${loaded} (should be 0); OpenTelemetry modules with telemetry off, half a second after: ${otelLoadedWhenOff} (should be 0).`,
  );
}
