#!/usr/bin/env node
// The first step of `npm start`, `npm test` and `npm run fakes`: install the locked dependencies when they are
// missing or older than package-lock.json (a fresh clone, a pull that changed the lock), and do nothing when
// they are current. Plain Node and CommonJS, because it runs before anything of node_modules exists.
//
// npm writes node_modules/.package-lock.json at the end of every install: it is there, and newer than the lock
// file, exactly when the last install finished after the lock last changed.
'use strict';
const { spawnSync } = require('node:child_process');
const { statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const modifiedAt = (path) => {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
};

const lock = modifiedAt(join(root, 'package-lock.json'));
const installed = modifiedAt(join(root, 'node_modules', '.package-lock.json'));
const reason =
  installed === undefined
    ? 'node_modules is missing'
    : lock !== undefined && installed < lock
      ? 'package-lock.json is newer than node_modules'
      : undefined;
if (!reason) process.exit(0);

console.log(`${reason}: installing the locked dependencies (npm ci) first.`);
// The npm that runs this script (npm_execpath), so the same version installs; plain `npm` when run by hand.
const npmCli = process.env.npm_execpath;
const [command, args] = npmCli ? [process.execPath, [npmCli]] : ['npm', []];
const result = spawnSync(command, [...args, 'ci', '--no-audit', '--no-fund'], {
  cwd: root,
  stdio: 'inherit',
  shell: !npmCli && process.platform === 'win32',
});
if (result.status !== 0) {
  console.error(`npm ci failed (${result.error?.message ?? `exit code ${result.status}`}); nothing else was run.`);
  process.exit(result.status || 1);
}
