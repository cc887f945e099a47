import { describe, expect, it } from 'vitest';
import { compileUriTemplate, UriTemplateError } from '../../src/actionUris/uriTemplate';

const expand = (template: string, variables: Record<string, unknown>) =>
  compileUriTemplate(template).expand(variables as never);

describe('#TOKEN# placeholders', () => {
  it('expand like {token}: percent-encoded and injection-safe, found case-insensitively', () => {
    expect(
      expand("https://bc.example.com/?company=CRONUS&page=5900&filter='No.' IS '#JOBNO#'", { jobNo: "SO-1'&x=1" }),
    ).toBe("https://bc.example.com/?company=CRONUS&page=5900&filter='No.'%20IS%20'SO-1%27%26x%3D1'");
  });

  it('mix freely with RFC 6570 expressions and keep other # as literals (fragments)', () => {
    const t = compileUriTemplate('https://x.example/#SOURCEAPP#/{jobNo}{?taskNo}#section-2');
    expect(t.tokens).toEqual(['SOURCEAPP']);
    expect(t.variables).toEqual(['jobNo', 'taskNo']);
    expect(t.expand({ sourceApp: 'BC US', jobNo: 'J 1', taskNo: '10' })).toBe(
      'https://x.example/BC%20US/J%201?taskNo=10#section-2',
    );
  });

  it('join a list with | (the Business Central filter "or"), encoded', () => {
    expect(expand("filter='No.' IS '#JOBNO#'", { jobNo: ['SO-1', 'SO-2'] })).toBe("filter='No.'%20IS%20'SO-1%7CSO-2'");
  });

  it('expand to nothing when the record has no such field', () => {
    expect(expand('a#MISSING#b', {})).toBe('ab');
  });
});

describe('values', () => {
  it('expand dates as ISO 8601 UTC, numbers and booleans as text', () => {
    const start = new Date(Date.UTC(2026, 10, 30, 8, 0, 0));
    expect(expand('{?start,n,ok}', { start, n: 4.5, ok: false })).toBe(
      '?start=2026-11-30T08%3A00%3A00.000Z&n=4.5&ok=false',
    );
    expect(expand('#START#', { start })).toBe('2026-11-30T08%3A00%3A00.000Z');
  });

  it('refuse nested objects and lists inside lists', () => {
    expect(() => expand('{x}', { x: { deep: { no: 1 } } })).toThrow(UriTemplateError);
    expect(() => expand('{x}', { x: [['a']] })).toThrow(/nested/);
  });

  it('refuse text that is not well-formed Unicode', () => {
    expect(() => expand('{x}', { x: '\ud800' })).toThrow(UriTemplateError);
  });
});

describe('literals (RFC 6570 section 3.1)', () => {
  it('percent-encode characters a URI may not hold, keep reserved ones and existing triplets', () => {
    expect(expand('dynamicsnav://h:7046/CRONUS%20Intl/runreport?filter=DSApp.Source Type:{t}', { t: 'HR' })).toBe(
      'dynamicsnav://h:7046/CRONUS%20Intl/runreport?filter=DSApp.Source%20Type:HR',
    );
    expect(expand('https://x/café|<a>"b"', {})).toBe('https://x/caf%C3%A9%7C%3Ca%3E%22b%22');
    expect(expand('https://x/100%/{v}', { v: 1 })).toBe('https://x/100%25/1');
  });
});

describe('errors', () => {
  it.each([
    ['https://x/{unclosed', 'not closed', 10],
    ['https://x/}', 'without a matching', 10],
    ['https://x/{a b}', 'not a valid variable name', 11],
    ['https://x/{var:0}', 'prefix length', 15],
    ['https://x/{!x}', 'reserved for future', 11],
    ['https://x/\n', 'Control characters', 10],
  ])('%s is refused with the position', (template, message, position) => {
    let error: UriTemplateError | undefined;
    try {
      compileUriTemplate(template);
    } catch (e) {
      error = e as UriTemplateError;
    }
    expect(error).toBeInstanceOf(UriTemplateError);
    expect(error!.message).toContain(message);
    expect(error!.position).toBe(position);
  });
});
