// Which connectors take a change, and which of those skip it.
import type { AppointmentChange } from '../model/appointmentChange';
import type { StoredConnector } from '../model/connector';
import { caseKey } from '../model/text';

/** Connectors of the source app whose source type is unset or equal (both compared as model/text.ts caseKey). */
export function connectorsFor(change: AppointmentChange, ofSourceApp: StoredConnector[]): StoredConnector[] {
  const type = change.appointment.sourceType === null ? null : caseKey(change.appointment.sourceType);
  return ofSourceApp.filter((c) => c.sourceType === null || caseKey(c.sourceType) === type);
}

/** Why a routed connector does not take the change, or undefined when it does. */
export function skipReason(
  connector: StoredConnector,
  change: AppointmentChange,
): 'skipped-disabled' | 'skipped-action' | undefined {
  if (!connector.sendAppointments) return 'skipped-disabled';
  if (!connector.databaseActions.includes(change.databaseAction)) return 'skipped-action';
  return undefined;
}
