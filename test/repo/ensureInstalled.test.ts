// Two commands on a fresh clone: `npm start` and `npm test` install the locked dependencies themselves when
// node_modules is missing or older than the lock file, and skip that when it is current. Run through real npm,
// on a small project with the repo's own script and a local dependency (no registry needed), because what
// matters is what npm does with the scripts as package.json declares them.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/repoRoot';
import { run } from '../support/run';

const FIRST_STEP = 'node scripts/ensure-installed.cjs && ';
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  allowScripts?: Record<string, boolean>;
};

const dir = mkdtempSync(join(tmpdir(), 'ensure-installed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** npm itself, as a user runs it; the npm that runs this suite when there is one. */
async function npm(...args: string[]) {
  const npmCli = process.env.npm_execpath;
  const [command, prefix] = npmCli?.endsWith('.js') ? [process.execPath, [npmCli]] : ['npm', []];
  const ran = await run(command, [...prefix, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_cache: join(dir, '.npm-cache') },
    timeoutMs: 120_000,
  });
  return { status: ran.status, out: `${ran.stdout}${ran.stderr}` };
}

/** The small project's package.json: `npm start` is the install check, then `start`. */
function writeProject(start: string, dependencies: Record<string, string>) {
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'fresh-clone',
      version: '1.0.0',
      private: true,
      scripts: { start: `${FIRST_STEP}${start}` },
      dependencies,
    }),
  );
}

describe('the first step of npm start, npm test and npm run fakes', () => {
  it('is the install check, in the repo package.json', () => {
    for (const script of ['start', 'test', 'fakes'])
      expect(pkg.scripts[script]).toMatch(/^node scripts\/ensure-installed\.cjs && /);
  });

  it('reviews every dependency install script (npm 11 allowScripts): esbuild runs, protobufjs is denied', () => {
    expect(pkg.allowScripts).toEqual({ esbuild: true, protobufjs: false });
  });

  it('installs on a fresh clone, does nothing when current, and installs again after the lock changes', async () => {
    mkdirSync(join(dir, 'scripts'));
    copyFileSync(join(repoRoot, 'scripts', 'ensure-installed.cjs'), join(dir, 'scripts', 'ensure-installed.cjs'));
    mkdirSync(join(dir, 'dep'));
    writeFileSync(join(dir, 'dep', 'package.json'), JSON.stringify({ name: 'dep', version: '1.0.0' }));
    writeProject(`node -e "require('dep/package.json'); console.log('started')"`, { dep: 'file:dep' });
    expect((await npm('install', '--package-lock-only', '--no-audit', '--no-fund')).status).toBe(0);
    expect(existsSync(join(dir, 'node_modules'))).toBe(false);

    // A fresh clone: no node_modules. `npm start` installs, then starts.
    const fresh = await npm('start');
    expect(fresh.out).toContain('node_modules is missing: installing the locked dependencies (npm ci) first.');
    expect(fresh.out).toMatch(/^started$/m);
    expect(fresh.status).toBe(0);

    // Current: nothing to do, and nothing said.
    const again = await npm('start');
    expect(again.out).not.toContain('installing the locked dependencies');
    expect(again.out).toMatch(/^started$/m);

    // A pull that changed the lock: installed again.
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(dir, 'package-lock.json'), later, later);
    const pulled = await npm('start');
    expect(pulled.out).toContain('package-lock.json is newer than node_modules: installing the locked dependencies');
    expect(pulled.out).toMatch(/^started$/m);
    expect(pulled.status).toBe(0);
  }, 240_000);

  it('stops with the reason when the install fails, before running anything else', async () => {
    // A lock that does not match package.json: npm ci refuses.
    writeProject(`node -e "console.log('started')"`, { dep: 'file:dep', other: 'file:other' });
    rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
    const broken = await npm('start');
    expect(broken.out).toMatch(/npm ci failed \(exit code \d+\); nothing else was run\./);
    expect(broken.out).not.toMatch(/^started$/m);
    expect(broken.status).not.toBe(0);
  }, 240_000);
});
