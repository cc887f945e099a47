// A user's clone holds only the repository: nothing in it may read or link a path beside it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/repoRoot';

// Built from parts so this file does not match itself.
const outside = new RegExp(['\\.\\./', 'shared', '(/|\\b)'].join(''));

function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .filter((f) => f && /\.(ts|js|json|md|sh|bicep|bicepparam|yaml|yml)$|^\.ci\//.test(f))
    .filter((f) => !f.startsWith('node_modules/') && f !== 'package-lock.json');
}

describe('the repository stands alone', () => {
  it('no source, test, script, doc or infra file refers to a folder outside the repository', () => {
    const offenders: string[] = [];
    for (const file of trackedFiles()) {
      const text = readFileSync(join(repoRoot, file), 'utf8');
      if (outside.test(text)) offenders.push(`${file}: mentions a sibling "shared" folder`);
    }
    expect(offenders).toEqual([]);
  });
});
