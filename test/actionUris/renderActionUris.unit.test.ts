// The render path's cost: one partition read per render, and a template compiled once per version.
import { describe, expect, it, vi } from 'vitest';
import { createRenderer } from '../../src/actionUris/renderActionUris';
import { compileUriTemplate } from '../../src/actionUris/uriTemplate';
import type { ActionUri } from '../../src/model/actionUri';
import type { Versioned } from '../../src/platform/etag';
import type { ActionUriStore } from '../../src/stores/actionUriStore';

const definition = (template: string): ActionUri => ({
  id: '6f1c2b9e-3a0d-4c51-9d57-0b8f2a4e7c11',
  sourceApp: 'APP',
  sourceType: null,
  uriType: 'task',
  template,
  description: '',
  isDefault: false,
  requestType: 'GET',
  createdAt: '2026-11-28T09:00:00.000Z',
  updatedAt: '2026-11-28T09:00:00.000Z',
});

function storeOf(current: { row: Versioned<ActionUri> }) {
  const store = {
    partitionReads: 0,
    async inPartition() {
      store.partitionReads++;
      return [current.row];
    },
  };
  return store;
}

describe('rendering cost', () => {
  it('reads one partition per render and compiles each template once per version', async () => {
    const current = { row: { value: definition('https://x.example/#TASKNO#'), etag: 'v1' } };
    const store = storeOf(current);
    const compile = vi.fn(compileUriTemplate);
    const renderer = createRenderer(store as unknown as ActionUriStore, compile);
    const request = { uriType: 'task' as const, records: [{ sourceApp: 'APP', jobNo: 'J', taskNo: 'T' }] };
    for (let i = 0; i < 5; i++) expect((await renderer.render(request))[0]!.uri).toBe('https://x.example/T');
    expect(store.partitionReads).toBe(5);
    expect(compile).toHaveBeenCalledTimes(1);

    current.row = { value: definition('https://y.example/#TASKNO#'), etag: 'v2' };
    compile.mockClear();
    expect((await renderer.render(request))[0]!.uri).toBe('https://y.example/T');
    expect((await renderer.render(request))[0]!.uri).toBe('https://y.example/T');
    expect(compile).toHaveBeenCalledTimes(1); // the new version, once
  });
});
