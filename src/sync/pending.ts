// One change waiting to be sent to one connector, as the sync passes it along.
import type { AppointmentChange } from '../model/appointmentChange';
import type { StoredConnector } from '../model/connector';
import type { WorkItemMode } from '../model/workItem';
import type { Logger } from '../platform/logging';
import type { Context } from '../platform/telemetry';
import type { RowBase } from './deliveryLog';

export interface PendingDelivery {
  connector: StoredConnector;
  change: AppointmentChange;
  /** Attempts so far (the next is attempt + 1), when the first was made, and why it is sent. */
  attempt: number;
  firstAttemptAt: number;
  /** When the change entered the service's queue: where its end-to-end latency starts. */
  enqueuedAt: number;
  mode: WorkItemMode;
  recoveryId?: string;
  /**
   * First seen here (a change from the appointments queue): its row and claim are most likely new, so they are
   * created outright. A retry, replay or recovery has them already, so they are read first.
   */
  fresh: boolean;
  base: RowBase;
  log: Logger;
  /** The trace context of this delivery (its span): the request that carries the change is a child of it. */
  trace?: Context;
}
