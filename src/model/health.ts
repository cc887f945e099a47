// Connector health: what the service knows of each connector's recent deliveries, kept as hourly counts and the
// last success, failure and connection test (sync/connectorHealth.ts keeps it), and shown by the API with a
// status an operator reads at a glance.
import { z } from 'zod';
import { helpFor } from './codes';
import { type CredentialStatus, credentialStatuses } from './connector';

/** Counts of one hour: delivered, failed, retried (attempts that will be tried again), poisoned. */
export const healthBucketSchema = z.object({
  h: z.number(),
  d: z.number().default(0),
  f: z.number().default(0),
  r: z.number().default(0),
  p: z.number().default(0),
});
export type HealthBucket = z.output<typeof healthBucketSchema>;

export interface HealthRecord {
  /** Hourly counts (start of the hour, epoch ms), the last 25 hours at most. */
  buckets: HealthBucket[];
  lastSuccessAt: number | null;
  lastFailure: { at: number; code: string; message: string } | null;
  /** Deliveries waiting for a retry now (kept as the rows move in and out of `retrying`). */
  retrying: number;
  lastTest: { at: number; ok: boolean; code: string } | null;
}

export const emptyHealth = (): HealthRecord => ({
  buckets: [],
  lastSuccessAt: null,
  lastFailure: null,
  retrying: 0,
  lastTest: null,
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const hourOf = (at: number) => Math.floor(at / HOUR) * HOUR;

const later = <T extends { at: number }>(a: T | null, b: T | null) => (!a ? b : !b ? a : b.at >= a.at ? b : a);
const latest = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

/** Two records as one: counts added per hour (the last 25 kept), the later of each "last", retrying summed. */
export function mergeHealth(a: HealthRecord, b: HealthRecord, now: number): HealthRecord {
  const hours = new Map<number, HealthBucket>();
  for (const bucket of [...a.buckets, ...b.buckets]) {
    if (bucket.h < hourOf(now) - DAY) continue;
    const sum = hours.get(bucket.h) ?? { h: bucket.h, d: 0, f: 0, r: 0, p: 0 };
    hours.set(bucket.h, {
      h: bucket.h,
      d: sum.d + bucket.d,
      f: sum.f + bucket.f,
      r: sum.r + bucket.r,
      p: sum.p + bucket.p,
    });
  }
  return {
    buckets: [...hours.values()].sort((x, y) => x.h - y.h),
    lastSuccessAt: latest(a.lastSuccessAt, b.lastSuccessAt),
    lastFailure: later(a.lastFailure, b.lastFailure),
    retrying: Math.max(0, a.retrying + b.retrying),
    lastTest: later(a.lastTest, b.lastTest),
  };
}

export const healthStatuses = ['healthy', 'failing', 'idle', 'disabled'] as const;
export type HealthStatus = (typeof healthStatuses)[number];

/**
 * disabled: the connector does not send; failing: its latest word, within a day, is a failure (a delivery that
 * failed or will be retried, or a connection test) with no success since; idle: nothing in the last day;
 * healthy: otherwise.
 */
export function statusOf(record: HealthRecord, sendAppointments: boolean, now: number): HealthStatus {
  if (!sendAppointments) return 'disabled';
  const success = record.lastSuccessAt ?? -Infinity;
  const failedAt = Math.max(
    record.lastFailure?.at ?? -Infinity,
    record.lastTest?.ok === false ? record.lastTest.at : -Infinity,
  );
  if (failedAt > success && failedAt > now - DAY) return 'failing';
  const recent = record.buckets.some((b) => b.h >= hourOf(now) - DAY && b.d + b.f + b.r > 0);
  if (!recent && success <= now - DAY && (record.lastTest?.at ?? -Infinity) <= now - DAY) return 'idle';
  return 'healthy';
}

const iso = (at: number | null) => (at === null ? null : new Date(at).toISOString());

export const connectorHealthSchema = z
  .object({
    connectorId: z.uuid(),
    name: z.string(),
    sourceApp: z.string(),
    status: z
      .enum(healthStatuses)
      .describe(
        'disabled: sendAppointments is false; failing: the latest word within 24 h is a failure with no success since; idle: nothing in 24 h; healthy: otherwise',
      ),
    lastSuccessAt: z.iso.datetime().nullable(),
    lastFailure: z
      .object({
        at: z.iso.datetime(),
        code: z.string(),
        message: z.string(),
        help: z.string().nullable().describe('what to do (the code catalogue)'),
      })
      .nullable()
      .describe('the latest delivery attempt that failed or will be retried'),
    last24h: z
      .object({
        delivered: z.number().int().describe('delivered or duplicate'),
        failed: z.number().int().describe('ended failed'),
        retried: z.number().int().describe('attempts that will be tried again'),
      })
      .describe('deliveries settled in the last 24 hours (by the hour)'),
    retrying: z.number().int().describe('deliveries waiting for a retry now'),
    poisoned: z.number().int().describe('changes whose processing crashed into the poison queue, last 24 hours'),
    credentialStatus: z.enum(credentialStatuses),
    lastTest: z
      .object({ at: z.iso.datetime(), ok: z.boolean(), code: z.string() })
      .nullable()
      .describe('the latest connection test (POST /api/connectors/{id}/test)'),
  })
  .meta({ title: 'ConnectorHealth' });

export type ConnectorHealth = z.output<typeof connectorHealthSchema>;

export function toConnectorHealth(
  connector: { id: string; name: string; sourceApp: string; sendAppointments: boolean },
  record: HealthRecord,
  credentialStatus: CredentialStatus,
  now: number,
): ConnectorHealth {
  const day = record.buckets.filter((b) => b.h >= hourOf(now) - DAY + HOUR);
  const sum = (key: 'd' | 'f' | 'r' | 'p') => day.reduce((n, b) => n + b[key], 0);
  return {
    connectorId: connector.id,
    name: connector.name,
    sourceApp: connector.sourceApp,
    status: statusOf(record, connector.sendAppointments, now),
    lastSuccessAt: iso(record.lastSuccessAt),
    lastFailure: record.lastFailure && {
      at: iso(record.lastFailure.at)!,
      code: record.lastFailure.code,
      message: record.lastFailure.message,
      help: helpFor(record.lastFailure.code),
    },
    last24h: { delivered: sum('d'), failed: sum('f'), retried: sum('r') },
    retrying: record.retrying,
    poisoned: sum('p'),
    credentialStatus,
    lastTest: record.lastTest && { at: iso(record.lastTest.at)!, ok: record.lastTest.ok, code: record.lastTest.code },
  };
}
