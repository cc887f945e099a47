// One fixed change for the contract tests: every field a back office sees, and an upper-case GUID (normalised).
import { appointmentChangeSchema } from '../../src/model/appointmentChange';

export const GOLDEN_CONNECTOR = '6f1c2b9e-3a0d-4c51-9d57-0b8f2a4e7c11';

export const goldenChange = () =>
  appointmentChangeSchema.parse({
    schemaVersion: 1,
    messageId: '0b7a2c1e-5d4f-4e3a-9c8b-7a6d5e4f3a2b',
    databaseAction: 'U',
    revision: 17,
    occurredAt: '2026-11-28T09:00:00Z',
    appointment: {
      appointmentId: 12345,
      appointmentGuid: '5E2C7A90-1B3D-4F6E-8A9C-0D1E2F3A4B5C',
      appointmentNo: 'A-1',
      sourceApp: 'BCCRONUSUS',
      sourceType: 'SERVICE',
      jobNo: 'SO-1001',
      taskNo: '10000',
      resourceNos: ['R-01', 'R-02'],
      subject: 'Install <boiler> & test',
      body: 'Bring the ladder',
      start: '2026-11-30T08:00:00Z',
      end: '2026-11-30T12:00:00+01:00',
      planningUom: 'HOUR',
      planningUomConversion: 1,
      planningQuantity: 4,
    },
  });

/** The push body of the golden change, as bytes on the wire. */
export const GOLDEN_BODY =
  '{"id":"40172c6a-4735-5103-8a92-d6edf0ebab05","databaseAction":"U","revision":17,"sourceApp":"BCCRONUSUS","sourceType":"SERVICE","jobNo":"SO-1001","taskNo":"10000","appointmentId":12345,"appointmentGuid":"5e2c7a90-1b3d-4f6e-8a9c-0d1e2f3a4b5c","appointmentNo":"A-1","subject":"Install <boiler> & test","body":"Bring the ladder","startDateTime":"2026-11-30T08:00:00.000Z","endDateTime":"2026-11-30T11:00:00.000Z","category":null,"timeMarker":null,"importance":"normal","locked":false,"planningQuantity":4,"planningUnitOfMeasure":"HOUR","planningUomConversion":1,"useFixedPlanningQuantity":false,"roundToUnitOfMeasure":false,"backOfficeId":null,"backOfficeParentId":null,"sentFromBackOffice":false,"resources":[{"resourceNo":"R-01"},{"resourceNo":"R-02"}]}';
