// The Functions host stand-in: loads the app's entry through the worker's startup path, then serves
// its HTTP functions and listens to its queues with the host's semantics. Used by `npm start` and tests.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { createQueueServiceClient, storageTargetFromEnv } from '../platform/storageClients';
import {
  type CoreLogHandler,
  functionRegistry,
  getProgrammingModel,
  installCoreStub,
  type RegisteredFunction,
  runHooks,
  setSystemLogHandler,
} from './coreStub';
import { type HostSettings, readHostJson } from './hostJson';
import {
  type HttpRoute,
  httpRoutesOf,
  readBody,
  resolveRoute,
  sendProblem,
  toRpcHttpRequest,
  traceParentFor,
  writeRpcHttpResponse,
} from './httpFrontEnd';
import { invokeRegisteredFunction, sharedAppHookData } from './invoke';
import { QueueListener } from './queueListener';
import { parseSchedule } from './timerSchedule';

export interface HostOptions {
  /** Folder with host.json and package.json (the function app root). */
  appRoot: string;
  /** Entry file to load; defaults to package.json "main" resolved against appRoot. */
  entry?: string;
  port: number;
  hostname?: string;
  /** Overrides of host.json (tests shorten polling and visibility timeouts). */
  hostSettings?: Partial<Omit<HostSettings, 'queues'>> & { queues?: Partial<HostSettings['queues']> };
  /** Start queue listeners (default true). */
  listenToQueues?: boolean;
  log?: CoreLogHandler;
}

export interface RunningHost {
  url: string;
  port: number;
  settings: HostSettings;
  functions: ReadonlyMap<string, RegisteredFunction>;
  listeners: ReadonlyMap<string, QueueListener>;
  /** Runs a function as POST /admin/functions/{name} does; the input is the trigger's text. */
  invokeNonHttp(name: string, input: string): Promise<void>;
  stop(): Promise<void>;
}

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

const defaultLog: CoreLogHandler = (level, category, message) =>
  console.log(`${new Date().toISOString()} [${level}] ${category === 'user' ? '' : `(${category}) `}${message}`);

const bindingExpression = /%([^%]+)%/g;
/** %SETTING% in binding properties is replaced by the app setting, as the host does. */
export const resolveSetting = (value: string) =>
  value.replace(bindingExpression, (_, name: string) => {
    const v = process.env[name];
    if (v === undefined) throw new Error(`Binding expression %${name}% refers to an app setting that is not set`);
    return v;
  });

async function loadEntry(appRoot: string, entry: string | undefined): Promise<void> {
  const main = entry ?? (JSON.parse(readFileSync(join(appRoot, 'package.json'), 'utf8')) as { main?: string }).main;
  if (!main) throw new Error('package.json has no "main": the host cannot find the app');
  await import(resolve(appRoot, main));
}

export async function startHost(options: HostOptions): Promise<RunningHost> {
  const log = options.log ?? defaultLog;
  setSystemLogHandler(log);
  installCoreStub();
  const fileSettings = readHostJson(join(options.appRoot, 'host.json'));
  const settings: HostSettings = {
    ...fileSettings,
    ...options.hostSettings,
    queues: { ...fileSettings.queues, ...options.hostSettings?.queues },
  };

  await loadEntry(options.appRoot, options.entry);
  await runHooks('appStart', {
    hookData: sharedAppHookData,
    appHookData: sharedAppHookData,
    functionAppDirectory: options.appRoot,
  });
  await getProgrammingModel().getCapabilities({});

  const routes = httpRoutesOf(functionRegistry.values());
  const server = createServer((req, res) => {
    handleHttp(req, res, routes, settings, log).catch((error: unknown) => {
      log('error', 'host', `Unhandled error serving ${req.method} ${req.url}: ${(error as Error).message}`);
      if (!res.headersSent)
        sendProblem(res, 500, 'internal-error', 'Internal server error', 'The host failed to serve the request.');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await listen(server, options.port, options.hostname ?? '127.0.0.1');
  const port = (server.address() as AddressInfo).port;

  const listeners = new Map<string, QueueListener>();
  if (options.listenToQueues !== false) {
    for (const fn of functionRegistry.values()) {
      const trigger = Object.values(fn.metadata.bindings).find((b) => b.type === 'queueTrigger');
      if (!trigger) continue;
      const connection =
        typeof trigger.connection === 'string' && trigger.connection ? trigger.connection : 'AzureWebJobsStorage';
      const target = storageTargetFromEnv(connection);
      if (!target) throw new Error(`Function ${fn.metadata.name}: the connection setting "${connection}" is not set`);
      const listener = new QueueListener({
        queueName: resolveSetting(String(trigger.queueName)),
        service: createQueueServiceClient(target),
        settings: settings.queues,
        log: (level, message) => log(level, 'host', message),
        invoke: async (text, triggerMetadata) => {
          await invokeAndLog(
            fn,
            { data: { string: text }, triggerMetadata, traceContext: { traceParent: traceParentFor(undefined) } },
            log,
          );
        },
      });
      await listener.start();
      listeners.set(fn.metadata.name, listener);
    }
  }

  // Timer triggers: the next occurrence of the schedule, in UTC (WEBSITE_TIME_ZONE is not emulated).
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  for (const fn of functionRegistry.values()) {
    const trigger = Object.values(fn.metadata.bindings).find((b) => b.type === 'timerTrigger');
    if (!trigger) continue;
    const next = parseSchedule(resolveSetting(String(trigger.schedule)));
    const fire = (isPastDue: boolean) =>
      invokeAndLog(
        fn,
        {
          data: {
            json: JSON.stringify({ Schedule: { AdjustForDST: true }, ScheduleStatus: null, IsPastDue: isPastDue }),
          },
          triggerMetadata: {},
          traceContext: { traceParent: traceParentFor(undefined) },
        },
        log,
      ).catch(() => undefined);
    const arm = () => {
      if (stopped) return;
      const timer = setTimeout(
        async () => {
          await fire(false);
          arm();
        },
        Math.max(0, next(new Date()).getTime() - Date.now()),
      );
      timer.unref();
      timers.push(timer);
    };
    if (trigger.runOnStartup === true) void fire(false);
    arm();
  }

  return {
    url: `http://${options.hostname ?? '127.0.0.1'}:${port}`,
    port,
    settings,
    functions: functionRegistry,
    listeners,
    invokeNonHttp: (name, input) => invokeNonHttp(name, input, log),
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      await Promise.all([...listeners.values()].map((l) => l.stop()));
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await runHooks('appTerminate', { hookData: sharedAppHookData, appHookData: sharedAppHookData });
    },
  };
}

function listen(server: Server, port: number, hostname: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new PortInUseError(`Port ${port} on ${hostname} is already in use (Functions host)`)
          : error,
      ),
    );
    server.listen(port, hostname, () => resolvePromise());
  });
}

/**
 * Runs one invocation, logged as the host does: "Executing" and "Executed" lines; an HTTP call in one line
 * when it ends, with its method, path and status (a person reading the console follows requests, not ids).
 */
async function invokeAndLog(
  fn: RegisteredFunction,
  input: Parameters<typeof invokeRegisteredFunction>[1],
  log: CoreLogHandler,
  http?: { method: string; path: string },
): Promise<Awaited<ReturnType<typeof invokeRegisteredFunction>>> {
  const invocationId = randomUUID();
  const started = Date.now();
  if (!http) log('information', 'host', `Executing 'Functions.${fn.metadata.name}' (Id=${invocationId})`);
  try {
    const response = await invokeRegisteredFunction(fn, { ...input, invocationId }, log);
    const status = (response.returnValue as { http?: { statusCode?: unknown } } | undefined)?.http?.statusCode;
    log(
      'information',
      'host',
      http
        ? `${http.method} ${http.path} ${Number(status ?? 204)} in ${Date.now() - started} ms (Functions.${fn.metadata.name})`
        : `Executed 'Functions.${fn.metadata.name}' (Succeeded, Id=${invocationId}, Duration=${Date.now() - started}ms)`,
    );
    return response;
  } catch (error) {
    log(
      'error',
      'host',
      `Executed 'Functions.${fn.metadata.name}' (Failed, Id=${invocationId}, Duration=${Date.now() - started}ms): ${(error as Error).message}`,
    );
    throw error;
  }
}

async function invokeNonHttp(name: string, input: string, log: CoreLogHandler): Promise<void> {
  const fn = [...functionRegistry.values()].find((f) => f.metadata.name.toLowerCase() === name.toLowerCase());
  if (!fn) throw Object.assign(new Error(`No function named ${name}`), { status: 404 });
  await invokeAndLog(
    fn,
    { data: { string: input }, triggerMetadata: {}, traceContext: { traceParent: traceParentFor(undefined) } },
    log,
  );
}

async function handleHttp(
  req: IncomingMessage,
  res: ServerResponse,
  routes: HttpRoute[],
  settings: HostSettings,
  log: CoreLogHandler,
): Promise<void> {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
  const method = (req.method ?? 'GET').toUpperCase();

  const admin = /^\/admin\/functions\/([^/]+)\/?$/i.exec(url.pathname);
  if (admin) {
    if (method !== 'POST')
      return sendProblem(res, 405, 'method-not-allowed', 'Method not allowed', 'Use POST.', { allow: 'POST' });
    const body = (await readBody(req)).toString('utf8');
    let input = '';
    try {
      const parsed = body ? (JSON.parse(body) as { input?: unknown }) : {};
      input = typeof parsed.input === 'string' ? parsed.input : JSON.stringify(parsed.input ?? '');
    } catch {
      return sendProblem(res, 400, 'malformed-json', 'The body is not valid JSON', 'Send {"input": "..."}.');
    }
    try {
      await invokeNonHttp(decodeURIComponent(admin[1]!), input, log);
      res.writeHead(202);
      res.end();
    } catch (error) {
      const status = (error as { status?: number }).status ?? 500;
      sendProblem(
        res,
        status,
        status === 404 ? 'not-found' : 'internal-error',
        status === 404 ? 'Not found' : 'Function failed',
        (error as Error).message,
      );
    }
    return;
  }

  const prefix = settings.routePrefix ? `/${settings.routePrefix}` : '';
  const lowerPath = url.pathname.toLowerCase();
  if (prefix && lowerPath !== prefix && !lowerPath.startsWith(`${prefix}/`)) {
    return sendProblem(res, 404, 'not-found', 'Not found', `No route serves ${url.pathname}.`);
  }
  const resolution = resolveRoute(routes, method, url.pathname.slice(prefix.length));
  if (resolution.kind === 'not-found')
    return sendProblem(res, 404, 'not-found', 'Not found', `No route serves ${url.pathname}.`);
  if (resolution.kind === 'method-not-allowed') {
    return sendProblem(
      res,
      405,
      'method-not-allowed',
      'Method not allowed',
      `${method} is not allowed on ${url.pathname}.`,
      {
        allow: resolution.allowed.join(', '),
      },
    );
  }
  let body: Buffer;
  try {
    body = await readBody(req);
  } catch {
    return sendProblem(res, 413, 'payload-too-large', 'The body is too large', 'The host accepts at most 100 MB.');
  }
  const traceParent = traceParentFor(req.headers.traceparent as string | undefined);
  try {
    const response = await invokeAndLog(
      resolution.route.fn,
      {
        data: toRpcHttpRequest(req, url, resolution.params, body),
        triggerMetadata: {},
        traceContext: { traceParent, traceState: req.headers.tracestate as string | undefined, attributes: {} },
      },
      log,
      { method, path: url.pathname },
    );
    writeRpcHttpResponse(res, response.returnValue);
  } catch {
    // The host answers a failed HTTP invocation with a bare 500.
    res.writeHead(500, { 'content-length': '0' });
    res.end();
  }
}
