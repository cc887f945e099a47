// The answer of a connection test, as the API returns it (and documents it in OpenAPI).
import { z } from 'zod';

export const diagnosisSchema = z
  .object({
    ok: z.boolean(),
    stage: z.enum(['credentials', 'token', 'request']),
    status: z.number().int().nullable(),
    code: z.string(),
    message: z.string(),
    help: z.string().nullable().describe("what to do about the code (the code catalogue's help)"),
    durationMs: z.number(),
  })
  .meta({ title: 'Diagnosis' });

export type Diagnosis = z.output<typeof diagnosisSchema>;
export type DiagnosisStage = Diagnosis['stage'];
