// Per-try timeouts and an overall deadline for the Azure SDK clients of storage and Key Vault. The SDKs'
// default HTTP client waits for an answer without end, so a dependency that accepts connections but never
// answers (frozen) held a request for as long as the freeze lasted.
//   - Table and Key Vault clients take an HTTP client: this one gives each try `perTryMs`, turns a try that ran
//     out into a retriable ETIMEDOUT (the SDK's retry policy then tries again), and refuses a try once the
//     call's deadline (or the ambient one of platform/deadline.ts) has passed.
//   - The queue client's pipeline takes no HTTP client of ours: its calls go through `boundedCall`, which gives
//     each try an abort signal and tries a transient failure again until the deadline (its SDK retries are off).
import type { HttpClient, PipelineRequest } from '@azure/core-rest-pipeline';
import { type Bounds, dependencyBounds, remainingMs } from './deadline';
import { statusCodeOf } from './errors';

/** Thrown when a dependency did not answer within the deadline; retriable by whoever asked. */
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
  readonly code = 'DEADLINE_EXCEEDED';
}

/** Retry options that keep the SDKs' own retries inside the overall deadline. */
export const boundedRetryOptions = { maxRetries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000 };

export function boundedHttpClient(bounds: Bounds = dependencyBounds): HttpClient {
  const { createDefaultHttpClient, RestError } =
    require('@azure/core-rest-pipeline') as typeof import('@azure/core-rest-pipeline');
  const inner = createDefaultHttpClient();
  // The SDKs' retry policies send the same request object again: its first try fixes the call's deadline.
  const deadlines = new WeakMap<PipelineRequest, number>();
  return {
    async sendRequest(request) {
      let until = deadlines.get(request);
      if (until === undefined) {
        until = Date.now() + Math.min(bounds.overallMs, remainingMs());
        deadlines.set(request, until);
      }
      const tryMs = Math.min(bounds.perTryMs, until - Date.now(), remainingMs());
      if (tryMs <= 0)
        throw new RestError(`${new URL(request.url).host} did not answer within the deadline`, {
          code: 'DEADLINE_EXCEEDED',
          request,
        });
      request.timeout = tryMs;
      try {
        return await inner.sendRequest(request);
      } catch (error) {
        // The default client aborts a try that runs out with an AbortError, which no retry policy retries.
        if ((error as Error).name === 'AbortError' && !request.abortSignal?.aborted)
          throw new RestError(`${new URL(request.url).host} did not answer within ${tryMs} ms`, {
            code: 'ETIMEDOUT',
            request,
          });
        throw error;
      }
    },
  };
}

const NETWORK_CODES = new Set(['ETIMEDOUT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'REQUEST_SEND_ERROR']);

const isTransient = (error: unknown) => {
  const status = statusCodeOf(error);
  if (status !== undefined) return status >= 500 || status === 408 || status === 429;
  const e = error as { name?: string; code?: string };
  return e.name === 'AbortError' || e.name === 'TimeoutError' || NETWORK_CODES.has(String(e.code));
};

/** Tries of one call, as the SDKs' own retry policies allow (boundedRetryOptions: 3 retries). */
const MAX_TRIES = 4;

/**
 * One call with an abort signal per try, tried again after a transient failure (four tries at most, as the
 * SDKs do) until the deadline.
 */
export async function boundedCall<T>(
  operation: (abortSignal: AbortSignal) => Promise<T>,
  what: string,
  bounds: Bounds = dependencyBounds,
): Promise<T> {
  const until = Date.now() + Math.min(bounds.overallMs, remainingMs());
  for (let attempt = 0; ; attempt++) {
    const tryMs = Math.min(bounds.perTryMs, until - Date.now());
    if (tryMs <= 0) throw new DeadlineError(`${what}: no answer within the deadline`);
    try {
      return await operation(AbortSignal.timeout(tryMs));
    } catch (error) {
      if (!isTransient(error) || attempt + 1 >= MAX_TRIES) throw error;
      const delayMs = Math.min(200 * 2 ** attempt, 2000);
      if (Date.now() + delayMs >= until)
        throw new DeadlineError(`${what}: no answer within the deadline`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
