// The SOAP `Create` envelope for a Business Central / NAV page web service (page-field names, e.g. Job_No).
import type { PushBody } from '../model/pushBody';

const escapeXml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

/** The service name is the last path segment of .../WS/{company}/Page/{Service}. */
export function soapServiceName(webServiceUri: string): string {
  const segments = new URL(webServiceUri).pathname.split('/').filter(Boolean);
  return decodeURIComponent(segments.at(-1) ?? 'Appointment');
}

export const soapNamespace = (service: string) => `urn:microsoft-dynamics-schemas/page/${service.toLowerCase()}`;
export const soapAction = (service: string, operation: string) => `"${soapNamespace(service)}:${operation}"`;

const fieldNames: Array<[keyof PushBody, string]> = [
  ['id', 'Id'],
  ['databaseAction', 'Database_Action'],
  ['revision', 'Revision'],
  ['sourceApp', 'Source_App'],
  ['sourceType', 'Source_Type'],
  ['jobNo', 'Job_No'],
  ['taskNo', 'Task_No'],
  ['appointmentId', 'Appointment_Id'],
  ['appointmentGuid', 'Appointment_Guid'],
  ['appointmentNo', 'Appointment_No'],
  ['subject', 'Subject'],
  ['body', 'Body'],
  ['startDateTime', 'Start_Date_Time'],
  ['endDateTime', 'End_Date_Time'],
  ['category', 'Category'],
  ['timeMarker', 'Time_Marker'],
  ['importance', 'Importance'],
  ['locked', 'Locked'],
  ['planningQuantity', 'Planning_Quantity'],
  ['planningUnitOfMeasure', 'Planning_Unit_Of_Measure'],
  ['planningUomConversion', 'Planning_UOM_Conversion'],
  ['useFixedPlanningQuantity', 'Use_Fixed_Planning_Quantity'],
  ['roundToUnitOfMeasure', 'Round_To_Unit_Of_Measure'],
  ['backOfficeId', 'Back_Office_Id'],
  ['backOfficeParentId', 'Back_Office_Parent_Id'],
  ['sentFromBackOffice', 'Sent_From_Back_Office'],
];

export function soapCreateEnvelope(service: string, body: PushBody): string {
  const fields = fieldNames
    .filter(([key]) => body[key] !== null && body[key] !== undefined)
    .map(([key, name]) => `<${name}>${escapeXml(String(body[key]))}</${name}>`)
    .join('');
  const resources = body.resources.length
    ? `<Resources>${body.resources.map((r) => `<Appointment_Resource><Resource_No>${escapeXml(r.resourceNo)}</Resource_No></Appointment_Resource>`).join('')}</Resources>`
    : '';
  const element = escapeXml(service);
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>' +
    `<Create xmlns="${soapNamespace(service)}"><${element}>${fields}${resources}</${element}></Create>` +
    '</soap:Body></soap:Envelope>'
  );
}
