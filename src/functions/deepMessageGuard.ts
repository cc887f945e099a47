// A queue message nested thousands of levels deep ([[[[...]]]]) crashes @azure/functions before our handler
// runs: the library converts the trigger metadata with a recursive function and runs out of stack. The host
// would retry it and poison it as a crash. This guard wraps the programming model's invocation model (the same
// in Azure's worker and the local host): such a message reaches the handler as its text in a JSON string, so
// the sync records it as malformed at once. The metadata says why: `triggerMetadata.nestedTooDeep`.

/** Deeper than any change: the change schema nests four levels. */
export const MAX_MESSAGE_DEPTH = 256;

/** The nesting depth of JSON text, counted without parsing it (brackets inside strings do not count). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) deepest = Math.max(deepest, ++depth);
    else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return deepest;
}

interface TypedData {
  string?: string;
}
interface CoreInvocationContext {
  request?: { inputData?: Array<{ data?: TypedData }>; triggerMetadata?: Record<string, TypedData> };
}
interface ProgrammingModel {
  getInvocationModel(coreCtx: CoreInvocationContext): unknown;
}

/** Wraps the programming model the library registered; call once, after the functions are registered. */
export function guardDeepMessages(): void {
  let core: { getProgrammingModel(): ProgrammingModel };
  try {
    core = require('@azure/functions-core');
  } catch {
    return; // not under a Functions worker (a unit test importing the entry): nothing to guard
  }
  const model = core.getProgrammingModel();
  const original = model.getInvocationModel.bind(model);
  model.getInvocationModel = (coreCtx) => {
    const request = coreCtx.request;
    const text = request?.triggerMetadata?.QueueTrigger?.string;
    if (request && text !== undefined && jsonDepth(text) > MAX_MESSAGE_DEPTH) {
      const asString = { string: JSON.stringify(text) };
      request.triggerMetadata = {
        ...request.triggerMetadata,
        QueueTrigger: asString,
        NestedTooDeep: { string: 'true' },
      };
      for (const input of request.inputData ?? []) if (input.data?.string === text) input.data = asString;
    }
    return original(coreCtx);
  };
}
