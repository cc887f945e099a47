// Builds the deployment package in dist-package/: what runs in Azure and nothing else. azd deploys this
// folder (azure.yaml: project dist-package, remoteBuild false); the Azure CLI path zips it.
//   dist/              the compiled app, without the local runtime (src/local) and the bench
//   host.json
//   package.json       name, version, main, engines and dependencies (no scripts, no devDependencies)
//   package-lock.json  the production tree, so a later `npm install` (azd runs one) changes nothing
//   node_modules/      production dependencies only, from the repository's lockfile
//   npm run package   (or: npx tsx scripts/package.ts --out <dir>)
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..');
const outArg = process.argv.indexOf('--out');
const out = resolve(outArg > 0 ? process.argv[outArg + 1]! : join(root, 'dist-package'));

// The folder stays (azure.yaml names it, and its README is committed); everything built before goes.
mkdirSync(out, { recursive: true });
for (const entry of readdirSync(out))
  if (entry !== 'README.md') rmSync(join(out, entry), { recursive: true, force: true });
writeFileSync(join(out, '.funcignore'), 'README.md\n');

// A fresh compile (never a dist/ with files of sources since deleted), then the local runtime out.
execFileSync(
  process.execPath,
  [
    require.resolve('typescript/bin/tsc'),
    '-p',
    'tsconfig.build.json',
    '--outDir',
    join(out, 'dist'),
    // Not the incremental state of dist/: this output starts empty, so everything must be emitted.
    '--incremental',
    'false',
  ],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
rmSync(join(out, 'dist', 'src', 'local'), { recursive: true, force: true });
cpSync(join(root, 'host.json'), join(out, 'host.json'));

// Production dependencies exactly as the lockfile has them.
cpSync(join(root, 'package.json'), join(out, 'package.json'));
cpSync(join(root, 'package-lock.json'), join(out, 'package-lock.json'));
const npm = (...args: string[]) =>
  execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, {
    cwd: out,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
npm('ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline');

// The manifest of what ships, and a lockfile of that tree alone.
const full = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
const shipped = {
  name: full.name,
  version: full.version,
  private: true,
  license: full.license,
  main: full.main,
  engines: full.engines,
  dependencies: full.dependencies,
};
writeFileSync(join(out, 'package.json'), `${JSON.stringify(shipped, null, 2)}\n`);
npm('install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline');
console.log(`Deployment package: ${out}`);
