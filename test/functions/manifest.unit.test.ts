// The entry registers functions from a generated table, so the cold start need not load zod or the modules.
// This is what keeps the table and the declarations one thing: a stale table fails here, not in Azure.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manifestPath, renderManifest } from '../../scripts/manifest';
import { httpFunctions, modules, queueFunctions, timerFunctions } from '../../src/functions/manifest';
import type { FunctionModule } from '../../src/functions/route';

describe('the function manifest', () => {
  it('is what the declarations generate (run `npm run manifest` after changing a declaration)', () => {
    expect(readFileSync(manifestPath, 'utf8')).toBe(renderManifest());
  });

  it('names, for every entry, a module that declares that function', async () => {
    const declared = async (module: keyof typeof modules) => (await modules[module]()) as FunctionModule;
    for (const f of httpFunctions)
      expect(
        (await declared(f.module)).routes?.map((r) => r.name),
        f.name,
      ).toContain(f.name);
    for (const f of queueFunctions)
      expect(
        (await declared(f.module)).queueTriggers?.map((t) => t.name),
        f.name,
      ).toContain(f.name);
    for (const f of timerFunctions)
      expect(
        (await declared(f.module)).timers?.map((t) => t.name),
        f.name,
      ).toContain(f.name);
  });

  it('has unique function names and registers the catch-all last', () => {
    const names = [...httpFunctions, ...queueFunctions, ...timerFunctions].map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    expect(httpFunctions.at(-1)).toMatchObject({ name: 'fallback', route: '{*path}' });
  });
});
