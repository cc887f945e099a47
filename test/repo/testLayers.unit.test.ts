// The two layers of the suite (test/README.md): a unit test needs nothing beyond its own process; every other
// test needs what the unit layer leaves out, so nothing that could run as a unit test hides in the slow layer.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/repoRoot';
import { startFirst } from '../support/sequencer';

const testDir = join(repoRoot, 'test');
const testFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? testFiles(path) : path.endsWith('.test.ts') ? [path] : [];
  });

/** What makes a test need more than its own process: Azurite, the emulator, the host, another program. */
const needsMore =
  /startTestApp|startCluster|azuriteTable|inject\(|KeyVaultEmulator|startHost|child_process|support\/(cluster|testApp|run)'/;

// This file names the patterns it looks for, so it is left out of its own search.
const files = testFiles(testDir)
  .filter((f) => !f.endsWith('testLayers.unit.test.ts'))
  .map((f) => ({ path: relative(repoRoot, f), text: readFileSync(f, 'utf8') }));

describe('test layers', () => {
  it('a unit test starts nothing outside its process (no Azurite, emulator, host)', () => {
    const offenders = files
      .filter(
        (f) =>
          f.path.endsWith('.unit.test.ts') &&
          /startTestApp|azuriteTable|inject\(|KeyVaultEmulator|startHost|support\/testApp/.test(f.text),
      )
      .map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it('a unit test mocks no module: the layer shares one module graph (vitest.config.ts), so a mock would leak', () => {
    const offenders = files
      .filter((f) => f.path.endsWith('.unit.test.ts') && /vi\.(do)?mock\(/.test(f.text))
      .map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  it('every other test needs something the unit layer leaves out', () => {
    const misplaced = files
      .filter((f) => !f.path.endsWith('.unit.test.ts') && !needsMore.test(f.text))
      .map((f) => f.path);
    expect(misplaced).toEqual([]);
  });

  it('the files the sequencer starts first exist (a renamed one would silently lose its place)', () => {
    const paths = files.map((f) => f.path);
    expect(startFirst.filter((p) => !paths.includes(p))).toEqual([]);
  });
});
