// Handlers that load their module on first use: the entry registers every function without loading zod, the
// SDKs or the services (cold start). Only types come from @azure/functions here.
import type { HttpHandler, HttpRequest, InvocationContext, Timer } from '@azure/functions';
import type { FunctionModule } from './route';

type Loader = () => Promise<FunctionModule>;

function missing(kind: string, name: string): never {
  throw new Error(`The manifest names ${kind} ${name}, but its module does not declare it: run npm run manifest`);
}

export function lazyHttp(load: Loader, name: string): HttpHandler {
  let handler: HttpHandler | undefined;
  return async (request: HttpRequest, context: InvocationContext) => {
    if (!handler) {
      const [module, { serve }] = await Promise.all([load(), import('./http.js')]);
      handler = serve(module.routes?.find((r) => r.name === name) ?? missing('route', name));
    }
    return handler(request, context);
  };
}

export function lazyQueue(load: Loader, name: string) {
  let handler: ((message: unknown, context: InvocationContext) => Promise<void>) | undefined;
  return async (message: unknown, context: InvocationContext) => {
    handler ??= ((await load()).queueTriggers?.find((t) => t.name === name) ?? missing('queue trigger', name)).handler;
    return handler(message, context);
  };
}

export function lazyTimer(load: Loader, name: string) {
  let handler: ((timer: Timer, context: InvocationContext) => Promise<void>) | undefined;
  return async (timer: Timer, context: InvocationContext) => {
    handler ??= ((await load()).timers?.find((t) => t.name === name) ?? missing('timer', name)).handler;
    return handler(timer, context);
  };
}
