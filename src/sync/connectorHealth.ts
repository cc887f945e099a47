// Connector health, kept as deliveries settle: each row the delivery log writes adds to this instance's counts
// in memory (no storage request), and every `flushMs` the counts of the connectors that moved are added to
// their health rows in one transaction (an ETag-guarded replace, from the row as this instance last wrote it,
// read again only when another instance wrote in between). Reads add what is not flushed yet.

import { credentialStatusOf, type StoredConnector } from '../model/connector';
import {
  type ConnectorHealth,
  emptyHealth,
  type HealthRecord,
  hourOf,
  mergeHealth,
  toConnectorHealth,
} from '../model/health';
import { NotFoundError } from '../platform/errors';
import type { Logger } from '../platform/logging';
import type { ConnectorStore } from '../stores/connectorStore';
import type { HealthStore } from '../stores/healthStore';
import type { RowListener } from './deliveryLog';

export interface ConnectorHealthDeps {
  store: HealthStore;
  now(): number;
  flushMs: number;
  credentialWarningMs: number;
  log: Logger;
}

/** Rounds of read-merge-write against other instances' flushes before the counts wait for the next flush. */
const MAX_ROUNDS = 5;

export function createConnectorHealth(deps: ConnectorHealthDeps) {
  /** Counts not flushed yet, per connector (retrying as a change, not a level). */
  let pending = new Map<string, HealthRecord>();
  /** Each row as this instance last wrote it: the next flush replaces it without reading. */
  const written = new Map<string, { record: HealthRecord; etag: string }>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;

  const deltaOf = (connectorId: string) => {
    let delta = pending.get(connectorId);
    if (!delta) {
      delta = emptyHealth();
      pending.set(connectorId, delta);
    }
    timer ??= setTimeout(() => {
      timer = undefined;
      void flush();
    }, deps.flushMs).unref();
    return delta;
  };

  const count = (delta: HealthRecord, at: number, key: 'd' | 'f' | 'r' | 'p') => {
    const h = hourOf(at);
    let bucket = delta.buckets.find((b) => b.h === h);
    if (!bucket) {
      bucket = { h, d: 0, f: 0, r: 0, p: 0 };
      delta.buckets.push(bucket);
    }
    bucket[key]++;
  };

  /** What a written row means for its connector's health. */
  const listener: RowListener = ({ row, previous, attempted }) => {
    if (!row.connectorId) return;
    const moved = previous !== row.status;
    const poisoned = attempted && row.code === 'sync.poisoned';
    const retried = attempted && row.status === 'retrying';
    const settled = moved && (row.status === 'delivered' || row.status === 'duplicate' || row.status === 'failed');
    const intoRetrying = moved && row.status === 'retrying';
    const outOfRetrying = moved && previous === 'retrying';
    if (!(poisoned || retried || settled || intoRetrying || outOfRetrying)) return;
    const at = deps.now();
    const delta = deltaOf(row.connectorId);
    if (settled && row.status !== 'failed') {
      count(delta, at, 'd');
      delta.lastSuccessAt = at;
    }
    if ((settled && row.status === 'failed') || retried) {
      count(delta, at, row.status === 'failed' ? 'f' : 'r');
      delta.lastFailure = { at, code: row.code ?? 'unknown', message: row.message ?? '' };
    }
    if (poisoned) count(delta, at, 'p');
    if (intoRetrying) delta.retrying++;
    if (outOfRetrying) delta.retrying--;
  };

  /** Adds one connector's counts to its row; false when other instances kept changing it (the counts wait). */
  async function flushOne(connectorId: string, delta: HealthRecord): Promise<boolean> {
    let base = written.get(connectorId);
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const record = mergeHealth(base?.record ?? emptyHealth(), delta, deps.now());
      const result = base
        ? await deps.store.replace(connectorId, record, base.etag)
        : await deps.store.create(connectorId, record);
      if (result.ok) {
        written.set(connectorId, { record, etag: result.etag });
        return true;
      }
      base = await deps.store.read(connectorId);
    }
    written.delete(connectorId);
    return false;
  }

  /** Writes every connector's counts; what could not be written joins the next flush. */
  function flush(): Promise<void> {
    flushing ??= (async () => {
      const batch = pending;
      pending = new Map();
      const kept = await Promise.all(
        [...batch].map(async ([connectorId, delta]) => {
          try {
            if (await flushOne(connectorId, delta)) return undefined;
          } catch (error) {
            written.delete(connectorId);
            deps.log.warn('health.flush-failed', { connectorId, error });
          }
          return [connectorId, delta] as const;
        }),
      );
      for (const entry of kept) {
        if (!entry) continue;
        const [connectorId, delta] = entry;
        pending.set(connectorId, mergeHealth(delta, pending.get(connectorId) ?? emptyHealth(), deps.now()));
        deltaOf(connectorId);
      }
    })().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  /** The connector's health record: its row plus what this instance has not flushed yet. */
  async function recordOf(connectorId: string): Promise<HealthRecord> {
    const stored = (await deps.store.read(connectorId))?.record ?? emptyHealth();
    return mergeHealth(stored, pending.get(connectorId) ?? emptyHealth(), deps.now());
  }

  const view = (connector: StoredConnector, record: HealthRecord): ConnectorHealth =>
    toConnectorHealth(
      connector,
      record,
      credentialStatusOf(connector, deps.now(), deps.credentialWarningMs),
      deps.now(),
    );

  return {
    listener,
    flush,
    /** Stops the timer and writes what is left (the instance is stopping). */
    async close() {
      clearTimeout(timer);
      timer = undefined;
      await flushing;
      await flush();
    },
    healthOf: async (connector: StoredConnector) => view(connector, await recordOf(connector.id)),
    /** Every connector's health at once: its row (one query for all) plus what this instance has not flushed. */
    async healthOfAll(connectors: StoredConnector[]): Promise<ConnectorHealth[]> {
      const stored = await deps.store.readAll();
      return connectors.map((c) =>
        view(c, mergeHealth(stored.get(c.id) ?? emptyHealth(), pending.get(c.id) ?? emptyHealth(), deps.now())),
      );
    },
    /** A connection test's result, written at once (tests are rare, and people look right after one). */
    recordTest: (connectorId: string, test: { ok: boolean; code: string }) =>
      deps.store.recordTest(connectorId, { at: deps.now(), ...test }),
    forget: (connectorId: string) => {
      pending.delete(connectorId);
      written.delete(connectorId);
      return deps.store.remove(connectorId);
    },
  };
}

export type ConnectorHealthKeeper = ReturnType<typeof createConnectorHealth>;

/** The health API's reads: one connector's, or a page of a source app's (or everyone's). */
export function createHealthQueries(
  keeper: Pick<ConnectorHealthKeeper, 'healthOf' | 'healthOfAll'>,
  connectors: Pick<ConnectorStore, 'get' | 'list'>,
) {
  return {
    /** Every connector's health (the metrics' gauge): two queries however many connectors there are. */
    async all(): Promise<ConnectorHealth[]> {
      const all: StoredConnector[] = [];
      let token: string | undefined;
      do {
        const page = await connectors.list({}, { size: 1000, token });
        all.push(...page.items);
        token = page.continuationToken ?? undefined;
      } while (token);
      return keeper.healthOfAll(all);
    },
    async get(id: string): Promise<ConnectorHealth> {
      const found = await connectors.get(id);
      if (!found) throw new NotFoundError(`Connector ${id} does not exist.`);
      return keeper.healthOf(found.value);
    },
    async list(filter: { sourceApp?: string }, page: { size: number; token?: string }) {
      const connectorsPage = await connectors.list(filter, page);
      return {
        items: await Promise.all(connectorsPage.items.map((c) => keeper.healthOf(c))),
        continuationToken: connectorsPage.continuationToken,
      };
    },
  };
}
