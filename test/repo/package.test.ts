// The deployment package (`npm run package`, what azd deploys): the compiled app, host.json, a production
// package.json and lockfile and production node_modules, nothing else; every module of the app loads from it.
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { run, runOrThrow } from '../support/run';
import { repoRoot } from '../support/testApp';

let out: string;
const rootPackage = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));

function sizeOf(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, entry) => sum + sizeOf(join(path, entry)), 0);
}

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

beforeAll(async () => {
  out = join(mkdtempSync(join(tmpdir(), 'package-')), 'dist-package');
  await runOrThrow(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'package.ts'), '--out', out], {
    cwd: repoRoot,
  });
}, 240_000);

describe('the deployment package', () => {
  it('holds the app, host.json, the production manifest and lockfile, and node_modules; nothing else', () => {
    expect(readdirSync(out).sort()).toEqual([
      '.funcignore',
      'dist',
      'host.json',
      'node_modules',
      'package-lock.json',
      'package.json',
    ]);
    const shipped = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8'));
    expect(shipped).toEqual({
      name: 'backoffice-connector-service',
      version: rootPackage.version,
      private: true,
      license: 'UNLICENSED',
      main: 'dist/src/index.js',
      engines: rootPackage.engines,
      dependencies: rootPackage.dependencies,
    });
    const lock = JSON.parse(readFileSync(join(out, 'package-lock.json'), 'utf8'));
    expect(lock.packages[''].devDependencies).toBeUndefined();
  });

  it('ships the compiled app without the local runtime, sources or tests', () => {
    const files = filesUnder(join(out, 'dist'));
    expect(files).toContain('src/index.js');
    expect(files).toContain('src/functions/manifest.js');
    expect(files.filter((f) => f.startsWith('src/local/'))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => /(^|\/)test\//.test(f))).toEqual([]);
  });

  it('installs production dependencies only', () => {
    const installed = new Set(
      readdirSync(join(out, 'node_modules')).flatMap((e) =>
        e.startsWith('@') ? readdirSync(join(out, 'node_modules', e)).map((s) => `${e}/${s}`) : [e],
      ),
    );
    for (const dependency of Object.keys(rootPackage.dependencies)) expect(installed.has(dependency)).toBe(true);
    // A dev dependency that a production one needs too (protobufjs, under the OTLP exporters, needs @types/node)
    // is a production dependency: the lock file says which are only for development.
    const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.keys(rootPackage.devDependencies).filter((d) => lock.packages[`node_modules/${d}`]?.dev);
    expect(devOnly).toContain('vitest');
    for (const dev of devOnly) expect(installed.has(dev), dev).toBe(false);
    for (const tool of ['azurite', 'vitest', 'typescript', 'tsx', '@biomejs/biome'])
      expect(installed.has(tool)).toBe(false);
    // What the Azure SDKs weigh, and no more: the whole repository's node_modules is several times this.
    expect(sizeOf(out)).toBeLessThan(120 * 1024 * 1024);
  });

  it('loads every module of the app from its own node_modules', async () => {
    const modules = [
      'dist/src/index.js',
      'dist/src/services.js',
      ...filesUnder(join(out, 'dist', 'src', 'functions'))
        .filter((f) => f.endsWith('.js'))
        .map((f) => `dist/src/functions/${f}`),
    ];
    const script = modules.map((m) => `require(${JSON.stringify(join(out, m))});`).join('');
    // Outside the repository, so nothing resolves from its node_modules.
    const result = await run(process.execPath, ['-e', `${script} console.log('loaded', ${modules.length})`], {
      cwd: out,
      env: { PATH: process.env.PATH, NODE_PATH: '' },
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(`loaded ${modules.length}`);
  });
});
