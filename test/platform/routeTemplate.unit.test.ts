import { describe, expect, it } from 'vitest';
import { compareRoutes, compileRoute, RouteTemplateError } from '../../src/platform/routeTemplate';

describe('route templates', () => {
  it('matches literals case-insensitively and captures parameters, decoded', () => {
    const route = compileRoute('connectors/{id}');
    expect(route.match('Connectors/abc%20def')).toEqual({ id: 'abc def' });
    expect(route.match('connectors')).toBeNull();
    expect(route.match('connectors/a/b')).toBeNull();
    expect(route.match('other/a')).toBeNull();
  });

  it('supports optional trailing parameters and defaults', () => {
    const optional = compileRoute('products/{category:alpha}/{id:int?}');
    expect(optional.match('products/tools')).toEqual({ category: 'tools' });
    expect(optional.match('products/tools/42')).toEqual({ category: 'tools', id: '42' });
    expect(optional.match('products/tools/x')).toBeNull();
    expect(optional.match('products/42')).toBeNull();
    expect(compileRoute('items/{page=1}').match('items')).toEqual({ page: '1' });
  });

  it('applies ASP.NET constraints', () => {
    const cases: Array<[string, string, boolean]> = [
      ['{x:int}', '123', true],
      ['{x:int}', '12a', false],
      ['{x:guid}', '3f2504e0-4f89-11d3-9a0c-0305e82c3301', true],
      ['{x:guid}', 'nope', false],
      ['{x:bool}', 'TRUE', true],
      ['{x:minlength(3)}', 'ab', false],
      ['{x:maxlength(3)}', 'abc', true],
      ['{x:length(2,3)}', 'abcd', false],
      ['{x:range(1,10)}', '10', true],
      ['{x:range(1,10)}', '11', false],
      ['{x:min(5)}', '4', false],
      ['{x:regex(^[a-z]{{2}}$)}', 'ab', true],
      ['{x:int:min(3)}', '2', false],
      ['{x:int:min(3)}', '3', true],
    ];
    for (const [template, value, ok] of cases) {
      expect(compileRoute(`t/${template}`).match(`t/${value}`) !== null, `${template} with ${value}`).toBe(ok);
    }
  });

  it('captures the rest of the path with a catch-all, including nothing', () => {
    const route = compileRoute('{*path}');
    expect(route.match('a/b/c')).toEqual({ path: 'a/b/c' });
    expect(route.match('')).toEqual({});
  });

  it('orders literal before constrained before plain parameter before catch-all', () => {
    const routes = ['{*path}', 'connectors/{id}', 'connectors/{id:guid}', 'connectors/test'].map(compileRoute);
    expect(routes.sort(compareRoutes).map((r) => r.template)).toEqual([
      'connectors/test',
      'connectors/{id:guid}',
      'connectors/{id}',
      '{*path}',
    ]);
  });

  it('refuses templates the host would refuse', () => {
    expect(() => compileRoute('a/{*rest}/b')).toThrow(RouteTemplateError);
    expect(() => compileRoute('a/{x?}/b')).toThrow(RouteTemplateError);
    expect(() => compileRoute('a/{x:unknown}')).toThrow(/Unknown route constraint/);
    expect(() => compileRoute('a/pre{x}')).toThrow(/Unsupported segment/);
  });
});
