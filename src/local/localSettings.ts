// local.settings.json, the file Core Tools reads: its Values become environment variables.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const localSettingsSchema = z.object({
  IsEncrypted: z.boolean().optional(),
  Values: z.record(z.string(), z.string()).default({}),
  Host: z.object({ LocalHttpPort: z.number().int().optional() }).partial().optional(),
});

export type LocalSettings = z.infer<typeof localSettingsSchema>;

/** local.settings.json when present, else the committed example, so a fresh clone starts without set-up. */
export function readLocalSettings(appRoot: string): { file: string; settings: LocalSettings } {
  const own = join(appRoot, 'local.settings.json');
  const file = existsSync(own) ? own : join(appRoot, 'local.settings.example.json');
  const parsed = localSettingsSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success)
    throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (parsed.data.IsEncrypted) throw new Error(`${file}: encrypted settings are not supported by the local runtime`);
  return { file, settings: parsed.data };
}

/** Core Tools semantics: a variable already set in the environment wins over the file. */
export function applySettings(values: Record<string, string>, env: NodeJS.ProcessEnv = process.env): void {
  for (const [key, value] of Object.entries(values)) if (env[key] === undefined) env[key] = value;
}
