// The worker's invocation protocol (azure-functions-nodejs-worker: src/eventHandlers/InvocationHandler.ts),
// so a function runs through the library's own converters exactly as in Azure.
import { randomUUID } from 'node:crypto';
import {
  type CoreLogHandler,
  getProgrammingModel,
  hooks,
  type RegisteredFunction,
  type RpcInvocationResponse,
  runHooks,
} from './coreStub';

export interface InvocationInput {
  /** RPC typed data of the trigger, e.g. { http: {...} } or { string: '...' }. */
  data: unknown;
  triggerMetadata?: Record<string, unknown>;
  traceContext?: { traceParent?: string; traceState?: string; attributes?: Record<string, string> };
  invocationId?: string;
}

const appHookData: Record<string, unknown> = {};
export const sharedAppHookData = appHookData;

export function triggerBindingName(fn: RegisteredFunction): string {
  const entry = Object.entries(fn.metadata.bindings).find(([, b]) => /Trigger$/i.test(b.type));
  if (!entry) throw new Error(`Function ${fn.metadata.name} has no trigger binding`);
  return entry[0];
}

export async function invokeRegisteredFunction(
  fn: RegisteredFunction,
  input: InvocationInput,
  log: CoreLogHandler,
): Promise<RpcInvocationResponse> {
  const invocationId = input.invocationId ?? randomUUID();
  const coreCtx: Record<string, unknown> = {
    invocationId,
    metadata: fn.metadata,
    request: {
      invocationId,
      functionId: fn.metadata.functionId ?? fn.metadata.name,
      inputData: [{ name: triggerBindingName(fn), data: input.data }],
      triggerMetadata: input.triggerMetadata ?? {},
      traceContext: input.traceContext,
    },
    state: undefined,
    log: (level: string, category: string, message: string) => {
      log(level, category, message);
      for (const hook of hooks.log) hook({ level, category, message, invocationContext: undefined });
    },
  };
  const model = getProgrammingModel().getInvocationModel(coreCtx);
  const { context, inputs } = await model.getArguments();

  const hookData: Record<string, unknown> = {};
  const pre: Record<string, unknown> = {
    hookData,
    appHookData,
    invocationContext: context,
    inputs,
    functionCallback: fn.callback,
  };
  coreCtx.state = 'preInvocationHooks';
  await runHooks('preInvocation', pre);
  coreCtx.state = 'invocation';

  let result: unknown;
  let error: unknown;
  try {
    result = await model.invokeFunction(
      context,
      pre.inputs as unknown[],
      pre.functionCallback as RegisteredFunction['callback'],
    );
  } catch (e) {
    error = e;
  }

  const post: Record<string, unknown> = { hookData, appHookData, invocationContext: context, inputs, result, error };
  coreCtx.state = 'postInvocationHooks';
  await runHooks('postInvocation', post);
  coreCtx.state = undefined;
  if (post.error) throw post.error;
  return model.getResponse(context, post.result);
}
