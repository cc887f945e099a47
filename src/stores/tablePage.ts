// One page of a table query, for the paged list endpoints: an opaque continuation token in, the next out.
import type { TableClient } from '@azure/data-tables';
import { DependencyError, statusCodeOf, ValidationError } from '../platform/errors';

export interface Page<T> {
  items: T[];
  continuationToken: string | null;
}

export async function readPage<T>(
  client: TableClient,
  filter: string,
  page: { size: number; token?: string },
  map: (entity: Record<string, unknown>) => T,
  what: string,
): Promise<Page<T>> {
  try {
    const result = await client
      .listEntities<Record<string, unknown>>({ queryOptions: { filter } })
      .byPage({ maxPageSize: page.size, continuationToken: page.token })
      .next();
    const entities = result.done ? [] : result.value;
    return {
      items: entities.map(map),
      continuationToken: (entities as { continuationToken?: string }).continuationToken ?? null,
    };
  } catch (error) {
    const status = statusCodeOf(error);
    // A token that is not one of ours fails to decode in the SDK, or is refused by the service with 400.
    if (page.token && (status === undefined || status === 400)) {
      throw new ValidationError('The continuation token is not valid.', [
        {
          path: 'query.continuationToken',
          code: 'invalid',
          message: 'must be a token returned by a previous page, unchanged',
        },
      ]);
    }
    throw new DependencyError(`Table storage failed to list ${what}.`, 'storage-unavailable', { cause: error });
  }
}
