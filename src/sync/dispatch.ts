// A change on its way to one connector: it waits a moment for others to the same connector (lanes.ts), goes
// out with them (sendToConnector.ts), and what came of it is written down once (settle.ts). Resolves when its
// row is written. All of it is one span, `deliver`, which the row's outcome ends up on (deliveryMetrics.ts).
import { connectorAttributes, context, inSpan } from '../platform/telemetry';
import { Lanes } from './lanes';
import type { PendingDelivery } from './pending';
import type { createSender } from './sendToConnector';
import type { Settler } from './settle';

export interface DispatchDeps {
  sender: ReturnType<typeof createSender>;
  settle: Settler;
  /** How long changes for a connector that takes a $batch gather; the others go at once. */
  batchLingerMs: number;
  batchMaxOperations: number;
}

export type Dispatch = (p: PendingDelivery) => Promise<void>;

export function createDispatch(deps: DispatchDeps): Dispatch {
  const lanes = new Lanes({ maxItems: deps.batchMaxOperations }, (_connectorId, group: PendingDelivery[]) =>
    deps.sender.send(group),
  );
  return (pending) =>
    inSpan(
      'deliver',
      { attributes: { ...connectorAttributes(pending.connector), source_app: pending.change.appointment.sourceApp } },
      async () => {
        const p = { ...pending, trace: context.active() };
        const results = await lanes.join(p.connector.id, p, deps.sender.batches(p.connector) ? deps.batchLingerMs : 0);
        const result = results.get(p);
        if (!result) throw new Error(`the sender answered nothing for delivery ${p.base.id}`);
        await deps.settle.result(p, result);
      },
    );
}
