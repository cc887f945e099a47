// The push body (docs/contracts.md "Push to a back office"): the same for Business Central REST, NAV REST,
// $batch and webhooks, and the source of the SOAP envelope's fields.
import { createHash } from 'node:crypto';
import type { AppointmentChange } from './appointmentChange';

const NAMESPACE = Buffer.from('5f0c6a1e8b2d4c7e9a3f1b2c4d5e6f70', 'hex');

/** A name-based (version 5) UUID of (connector id, appointment guid, revision): equal inputs, equal id. */
export function deliveryId(connectorId: string, appointmentGuid: string, revision: number): string {
  const hash = createHash('sha1')
    .update(NAMESPACE)
    .update(`${connectorId.toLowerCase()}|${appointmentGuid.toLowerCase()}|${revision}`)
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface PushBody {
  id: string;
  databaseAction: 'I' | 'U' | 'D';
  revision: number;
  sourceApp: string;
  sourceType: string | null;
  jobNo: string;
  taskNo: string;
  appointmentId: number;
  appointmentGuid: string;
  appointmentNo: string | null;
  subject: string | null;
  body: string | null;
  startDateTime: string;
  endDateTime: string;
  category: string | null;
  timeMarker: string | null;
  importance: 'low' | 'normal' | 'high';
  locked: boolean;
  planningQuantity: number | null;
  planningUnitOfMeasure: string | null;
  planningUomConversion: number | null;
  useFixedPlanningQuantity: boolean;
  roundToUnitOfMeasure: boolean;
  backOfficeId: string | null;
  backOfficeParentId: string | null;
  sentFromBackOffice: boolean;
  resources: Array<{ resourceNo: string }>;
}

const utc = (iso: string) => new Date(iso).toISOString();

export function buildPushBody(connectorId: string, change: AppointmentChange): PushBody {
  const a = change.appointment;
  return {
    id: deliveryId(connectorId, a.appointmentGuid, change.revision),
    databaseAction: change.databaseAction,
    revision: change.revision,
    sourceApp: a.sourceApp,
    sourceType: a.sourceType,
    jobNo: a.jobNo,
    taskNo: a.taskNo,
    appointmentId: a.appointmentId,
    appointmentGuid: a.appointmentGuid,
    appointmentNo: a.appointmentNo,
    subject: a.subject,
    body: a.body,
    startDateTime: utc(a.start),
    endDateTime: utc(a.end),
    category: a.category,
    timeMarker: a.timeMarker,
    importance: a.importance,
    locked: a.locked,
    planningQuantity: a.planningQuantity,
    planningUnitOfMeasure: a.planningUom,
    planningUomConversion: a.planningUomConversion,
    useFixedPlanningQuantity: a.useFixedPlanningQuantity,
    roundToUnitOfMeasure: a.roundToUom,
    backOfficeId: a.backOfficeId,
    backOfficeParentId: a.backOfficeParentId,
    sentFromBackOffice: a.sentFromBackOffice,
    resources: a.resourceNos.map((resourceNo) => ({ resourceNo })),
  };
}
