// The house rules of src/, checked over every import (static, dynamic, type-only, re-exports):
// dependencies point one way (the layers below), and no file imports one that imports it back.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/repoRoot';

const src = join(repoRoot, 'src');

/** What each part of src/ may import besides itself. README "Layout" says the same in words. */
const allowed: Record<string, string[]> = {
  platform: [],
  model: ['platform'],
  // adapters: they know the model and the platform, never a use case and never each other
  backOffice: ['model', 'platform'],
  secrets: ['model', 'platform'],
  stores: ['model', 'platform'],
  queues: ['model', 'platform'],
  auth: ['model', 'platform'],
  // use cases, lowest first: each may use the adapters and the use cases before it
  audit: ['stores', 'model', 'platform'],
  connectors: ['audit', 'backOffice', 'secrets', 'stores', 'model', 'platform'],
  actionUris: ['audit', 'stores', 'model', 'platform'],
  sync: ['connectors', 'audit', 'backOffice', 'secrets', 'stores', 'queues', 'model', 'platform'],
  // the composition root wires everything below the HTTP and trigger adapters
  'services.ts': [
    'sync',
    'actionUris',
    'connectors',
    'audit',
    'auth',
    'backOffice',
    'secrets',
    'stores',
    'queues',
    'model',
    'platform',
  ],
  // trigger adapters call use cases through the services, never an adapter below them
  functions: ['services.ts', 'auth', 'model', 'platform'],
  'index.ts': ['functions', 'platform'],
  // the local runtime runs the entry it is given; it shares only the platform with the app
  local: ['platform'],
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const importPattern =
  /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]|^import\s+['"]([^'"]+)['"]/gm;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const targets: string[] = [];
  for (const m of text.matchAll(importPattern)) {
    const spec = m[1] ?? m[2] ?? m[3] ?? m[4];
    if (!spec?.startsWith('.')) continue;
    const base = resolve(dirname(file), spec.replace(/\.js$/, ''));
    const candidates = [`${base}.ts`, join(base, 'index.ts'), base];
    const found = candidates.find((c) => {
      try {
        return statSync(c).isFile();
      } catch {
        return false;
      }
    });
    if (found?.endsWith('.ts')) targets.push(found);
  }
  return targets;
}

/** The part of src/ a file belongs to: its top folder, or the file itself at the top. */
const partOf = (file: string) => relative(src, file).split('/')[0]!;

const files = filesUnder(src);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

describe('dependencies in src/', () => {
  it('every part of src/ is named in the rules, and every rule names a part that exists', () => {
    const parts = new Set(files.map(partOf));
    expect([...parts].filter((p) => !(p in allowed))).toEqual([]);
    expect(Object.keys(allowed).filter((p) => !parts.has(p))).toEqual([]);
    expect([...new Set(Object.values(allowed).flat())].filter((p) => !parts.has(p))).toEqual([]);
  });

  it('point one way: each file imports only its own part and the parts below it', () => {
    const broken: string[] = [];
    for (const [file, targets] of graph) {
      const from = partOf(file);
      for (const target of targets) {
        const to = partOf(target);
        if (to !== from && !allowed[from]!.includes(to))
          broken.push(`${relative(repoRoot, file)} -> ${relative(repoRoot, target)}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('have no cycle: no file imports one that imports it back, directly or not', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'visiting');
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'visiting')
          cycles.push([...stack.slice(stack.indexOf(next)), next].map((f) => relative(src, f)).join(' -> '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
