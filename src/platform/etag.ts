// Optimistic concurrency: a value with the ETag it was read at, and the If-Match check of the API.
import { PreconditionFailedError } from './errors';

export interface Versioned<T> {
  value: T;
  etag: string;
}

/** An If-Match header against the current ETag: absent or "*" always matches. */
export function ensureIfMatch(ifMatch: string | undefined, etag: string, what: string): void {
  if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== etag) {
    throw new PreconditionFailedError(`${what} has changed since that ETag; GET it again and retry.`);
  }
}
