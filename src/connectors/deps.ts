// What the connector use cases work with, wired by the composition root.
import type { AuditTrail } from '../audit/auditTrail';
import type { BackOfficeClient } from '../backOffice/backOfficeClient';
import type { Logger } from '../platform/logging';
import type { SecretStore } from '../secrets/secretStore';
import type { ConnectorStore } from '../stores/connectorStore';
import type { LatestRevisionStore } from '../stores/latestRevisionStore';

/** The part of connector health (sync/connectorHealth.ts) the connector use cases write. */
export interface ConnectorHealthWrites {
  recordTest(connectorId: string, test: { ok: boolean; code: string }): Promise<void>;
  forget(connectorId: string): Promise<void>;
}

export interface ConnectorDeps {
  store: ConnectorStore;
  health: ConnectorHealthWrites;
  secrets: SecretStore;
  audit: AuditTrail;
  latest: LatestRevisionStore;
  backOffice: BackOfficeClient;
  allowLoopback: boolean;
  /** How long before a secret's expiry the connector says "expiring". */
  credentialWarningMs: number;
  now(): number;
  newId(): string;
}

/** Runs a compensation step; a failure is logged (the original error is what the caller sees). */
export async function undo(log: Logger, connectorId: string, step: string, action: () => Promise<unknown>) {
  try {
    await action();
  } catch (error) {
    log.error('connector.compensation-failed', { connectorId, step, error });
  }
}

/** The same write again when no If-Match was sent and someone else changed the record in between. */
export const MAX_UNCONDITIONAL_ROUNDS = 5;
