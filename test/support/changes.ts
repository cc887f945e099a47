import { randomUUID } from 'node:crypto';
import { type AppointmentChange, appointmentChangeSchema } from '../../src/model/appointmentChange';

export interface ChangeOverrides {
  revision?: number;
  databaseAction?: 'I' | 'U' | 'D';
  appointment?: Record<string, unknown>;
}

/** An appointment change message as a producer sends it (DESIGN.md schemaVersion 1), with overrides. */
export function changeMessage(sourceApp: string, overrides: ChangeOverrides = {}) {
  return {
    schemaVersion: 1,
    messageId: randomUUID(),
    databaseAction: overrides.databaseAction ?? 'I',
    revision: overrides.revision ?? 1,
    occurredAt: '2026-11-28T09:00:00Z',
    appointment: {
      appointmentId: 12345,
      appointmentGuid: randomUUID(),
      sourceApp,
      sourceType: 'SERVICE',
      jobNo: 'SO-1001',
      taskNo: '10000',
      resourceNos: ['R-01'],
      start: '2026-11-30T08:00:00Z',
      end: '2026-11-30T12:00:00Z',
      ...overrides.appointment,
    },
  };
}

/** A valid appointment change (parsed, defaults applied), with overrides. */
export function sampleChange(overrides: ChangeOverrides = {}): AppointmentChange {
  return appointmentChangeSchema.parse(
    changeMessage('BCCRONUSUS', {
      ...overrides,
      appointment: {
        appointmentNo: 'A-1',
        resourceNos: ['R-01', 'R-02'],
        subject: 'Install <boiler> & test',
        body: 'Bring the ladder',
        end: '2026-11-30T12:00:00+01:00',
        planningUom: 'HOUR',
        planningUomConversion: 1,
        planningQuantity: 4,
        ...overrides.appointment,
      },
    }),
  );
}
