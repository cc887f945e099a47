// The nesting depth the guard measures: counted without parsing, brackets inside strings ignored.
import { describe, expect, it } from 'vitest';
import { jsonDepth } from '../../src/functions/deepMessageGuard';

describe('jsonDepth', () => {
  it.each([
    ['an empty object', '{}', 1],
    ['an object with a list of objects', '{"a":[1,{"b":2}]}', 3],
    ['brackets inside a string', '"[[[["', 0],
    ['an escaped quote inside a string', '{"a":"x\\"[[["}', 1],
    ['20,000 nested arrays', `${'['.repeat(20_000)}${']'.repeat(20_000)}`, 20_000],
  ])('%s', (_name, text, depth) => {
    expect(jsonDepth(text)).toBe(depth);
  });
});
