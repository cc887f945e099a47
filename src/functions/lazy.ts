// Handlers load on first call, so a cold start pays only for @azure/functions (zod and the SDKs come later).
import type { HttpHandler, HttpRequest, InvocationContext } from '@azure/functions';

export function lazyHttp<M extends Record<string, unknown>>(
  load: () => Promise<M>,
  name: keyof M & string,
): HttpHandler {
  let handler: HttpHandler | undefined;
  return async (request: HttpRequest, context: InvocationContext) => {
    handler ??= (await load())[name] as HttpHandler;
    return handler(request, context);
  };
}

export function lazyTrigger<T, M extends Record<string, unknown>>(
  load: () => Promise<M>,
  name: keyof M & string,
): (input: T, context: InvocationContext) => Promise<unknown> {
  let handler: ((input: T, context: InvocationContext) => unknown) | undefined;
  return async (input, context) => {
    handler ??= (await load())[name] as (input: T, context: InvocationContext) => unknown;
    return handler(input, context);
  };
}
