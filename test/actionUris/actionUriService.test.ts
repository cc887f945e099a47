// The render path's cost: one partition read per render, and a template compiled once per version.
import { describe, expect, it, vi } from 'vitest';
import { createActionUriService } from '../../src/actionUris/actionUriService';
import type { ActionUriStore } from '../../src/actionUris/actionUriStore';
import type { ActionUri } from '../../src/actionUris/model';
import * as engine from '../../src/actionUris/uriTemplate';
import type { Versioned } from '../../src/platform/etag';

vi.mock('../../src/actionUris/uriTemplate', async (importOriginal) => {
  const actual = await importOriginal<typeof engine>();
  return { ...actual, compileUriTemplate: vi.fn(actual.compileUriTemplate) };
});

function memoryStore() {
  const rows = new Map<string, Versioned<ActionUri>>();
  let version = 0;
  const store: ActionUriStore & { partitionReads: number } = {
    partitionReads: 0,
    async inPartition(sourceApp) {
      store.partitionReads++;
      return [...rows.values()].filter((r) => r.value.sourceApp.toUpperCase() === sourceApp.toUpperCase());
    },
    byId: async (id) => rows.get(id),
    async insert(value) {
      const etag = `v${++version}`;
      rows.set(value.id, { value, etag });
      return etag;
    },
    async replace(_previous, value) {
      const etag = `v${++version}`;
      rows.set(value.id, { value, etag });
      return etag;
    },
    async remove(value) {
      rows.delete(value.id);
    },
    list: async () => [...rows.values()].map((r) => r.value),
  };
  return store;
}

describe('rendering cost', () => {
  it('reads one partition per render and compiles each template once per version', async () => {
    const store = memoryStore();
    const service = createActionUriService({ store, allowedSchemes: ['https'] });
    const compile = vi.mocked(engine.compileUriTemplate);
    const created = await service.create({
      sourceApp: 'APP',
      sourceType: null,
      uriType: 'task',
      template: 'https://x.example/#TASKNO#',
      description: '',
      isDefault: false,
      requestType: 'GET',
    });
    compile.mockClear();
    store.partitionReads = 0;
    const record = { sourceApp: 'APP', jobNo: 'J', taskNo: 'T' };
    for (let i = 0; i < 5; i++) expect((await service.render('task', [record]))[0]!.uri).toBe('https://x.example/T');
    expect(store.partitionReads).toBe(5);
    expect(compile).toHaveBeenCalledTimes(1);

    await service.replace(created.value.id, { ...created.value, template: 'https://y.example/#TASKNO#' }, undefined);
    compile.mockClear();
    expect((await service.render('task', [record]))[0]!.uri).toBe('https://y.example/T');
    expect((await service.render('task', [record]))[0]!.uri).toBe('https://y.example/T');
    expect(compile).toHaveBeenCalledTimes(1); // the new version, once
  });
});
