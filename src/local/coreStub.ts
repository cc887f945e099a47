// Stand-in for the '@azure/functions-core' module that the real Node worker injects
// (azure-functions-nodejs-worker: src/setupCoreModule.ts). It must be installed before anything
// requires '@azure/functions': the library caches a missing core API forever ("test mode").
import Module = require('node:module');

export interface RegisteredFunction {
  metadata: FunctionMetadata;
  callback: (...args: unknown[]) => unknown;
}

export interface BindingMetadata {
  type: string;
  direction: 'in' | 'out' | 'inout';
  [key: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  functionId?: string;
  bindings: Record<string, BindingMetadata>;
  retryOptions?: unknown;
}

export type HookName = 'preInvocation' | 'postInvocation' | 'appStart' | 'appTerminate' | 'log';
const hookNames: HookName[] = ['preInvocation', 'postInvocation', 'appStart', 'appTerminate', 'log'];
type HookCallback = (context: Record<string, unknown>) => unknown;

class Disposable {
  #dispose?: () => void;
  constructor(dispose: () => void) {
    this.#dispose = dispose;
  }
  static from(...items: Array<{ dispose(): void }>): Disposable {
    return new Disposable(() => {
      for (const item of items) item.dispose();
    });
  }
  dispose(): void {
    this.#dispose?.();
    this.#dispose = undefined;
  }
}

export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreCtx: unknown): InvocationModel;
  getCapabilities(capabilities: Record<string, string>): Promise<Record<string, string>>;
}

export interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], callback: (...args: unknown[]) => unknown): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<RpcInvocationResponse>;
}

export interface RpcInvocationResponse {
  invocationId: string;
  outputData?: Array<{ name: string; data: unknown }>;
  returnValue?: unknown;
}

export type CoreLogHandler = (level: string, category: string, message: string) => void;

/** State the stand-in shares with the host: what the app registered. */
export const functionRegistry = new Map<string, RegisteredFunction>();
export const hooks: Record<HookName, HookCallback[]> = {
  preInvocation: [],
  postInvocation: [],
  appStart: [],
  appTerminate: [],
  log: [],
};
let programmingModel: ProgrammingModel | undefined;
let systemLog: CoreLogHandler = (level, category, message) => console.log(`[${level}/${category}] ${message}`);

export function getProgrammingModel(): ProgrammingModel {
  if (!programmingModel) throw new Error('The app did not load @azure/functions: no programming model was set');
  return programmingModel;
}

export function setSystemLogHandler(handler: CoreLogHandler): void {
  systemLog = handler;
}

const coreApi = {
  version: '4.0.0-local',
  hostVersion: '4.1040.0',
  Disposable,
  registerFunction(metadata: FunctionMetadata, callback: RegisteredFunction['callback']): Disposable {
    const id = metadata.functionId ?? metadata.name;
    // The worker refuses duplicates the same way (src/coreApi/registerFunction.ts).
    if (functionRegistry.has(id)) throw new Error(`A function with the id "${id}" has already been registered.`);
    functionRegistry.set(id, { metadata, callback });
    return new Disposable(() => functionRegistry.delete(id));
  },
  setProgrammingModel(model: ProgrammingModel): void {
    programmingModel = model;
  },
  getProgrammingModel,
  registerHook(name: string, callback: HookCallback): Disposable {
    if (!hookNames.includes(name as HookName)) {
      const error = new RangeError(`Unrecognized hook "${name}"`) as RangeError & {
        isAzureFunctionsSystemError: boolean;
      };
      error.isAzureFunctionsSystemError = true;
      throw error;
    }
    const list = hooks[name as HookName];
    list.push(callback);
    return new Disposable(() => {
      const at = list.indexOf(callback);
      if (at >= 0) list.splice(at, 1);
    });
  },
  log(level: string, category: string, message: string): void {
    systemLog(level, category, message);
  },
};

let installed = false;

/** Makes require('@azure/functions-core') return the stand-in, as the worker's require proxy does. */
export function installCoreStub(): void {
  if (installed) return;
  installed = true;
  const proto = Module.prototype as unknown as { require: (id: string) => unknown };
  proto.require = new Proxy(proto.require, {
    apply(target, self, args: [string]) {
      return args[0] === '@azure/functions-core' ? coreApi : Reflect.apply(target, self, args);
    },
  });
}

/** Runs every hook of one kind in registration order, as the worker does. */
/** In order, over the live list as the worker does: a hook registered while an earlier one waits runs too. */
export async function runHooks(name: HookName, context: Record<string, unknown>): Promise<void> {
  for (const hook of hooks[name]) await hook(context);
}
