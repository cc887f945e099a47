// The connector use cases, bound to their dependencies: what the HTTP adapters call.
import type { CallContext } from '../model/audit';
import { type Connector, type ConnectorInput, toPublicConnector } from '../model/connector';
import { NotFoundError } from '../platform/errors';
import type { Versioned } from '../platform/etag';
import type { Logger } from '../platform/logging';
import type { Page } from '../stores/tablePage';
import { createConnector } from './createConnector';
import { deleteConnector } from './deleteConnector';
import type { ConnectorDeps } from './deps';
import { replaceConnector } from './replaceConnector';
import { testConnection } from './testConnection';

export function createConnectorUseCases(deps: ConnectorDeps) {
  const publicOf = (c: Parameters<typeof toPublicConnector>[0]) =>
    toPublicConnector(c, deps.now(), deps.credentialWarningMs);
  return {
    create: (input: ConnectorInput, call: CallContext, log: Logger) => createConnector(deps, input, call, log),
    replace: (id: string, input: ConnectorInput, ifMatch: string | undefined, call: CallContext, log: Logger) =>
      replaceConnector(deps, id, input, ifMatch, call, log),
    remove: (id: string, ifMatch: string | undefined, call: CallContext, log: Logger) =>
      deleteConnector(deps, id, ifMatch, call, log),
    test: (id: string, call: CallContext, log: Logger) => testConnection(deps, id, call, log),
    async get(id: string): Promise<Versioned<Connector>> {
      const found = await deps.store.get(id);
      if (!found) throw new NotFoundError(`Connector ${id} does not exist.`);
      return { value: publicOf(found.value), etag: found.etag };
    },
    async list(
      filter: { sourceApp?: string; backOffice?: Connector['backOffice'] },
      page: { size: number; token?: string },
    ): Promise<Page<Connector>> {
      const result = await deps.store.list(filter, page);
      return { items: result.items.map(publicOf), continuationToken: result.continuationToken };
    },
  };
}

export type ConnectorUseCases = ReturnType<typeof createConnectorUseCases>;
