import { z } from 'zod';
import { defaultQueueNames } from './resourceNames';

const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1');

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined));

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' });

// Queue names: 3-63 chars, lowercase letters, digits and single dashes; <= 56 so "-poison" fits.
const queueName = z
  .string()
  .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,54}[a-z0-9]$/, 'must be a storage queue name of 3-56 characters');

/** A numeric setting: absent or blank means the fallback; anything else must be a number within the schema. */
const numberSetting = (schema: z.ZodNumber, fallback: number) =>
  optionalText.transform((v) => (v === undefined ? fallback : Number(v))).pipe(schema);

/** Environment variables (app settings) as the app sees them. Unknown keys are ignored: the host adds many. */
export const configSchema = z.object({
  AzureWebJobsStorage: optionalText,
  AzureWebJobsStorage__tableServiceUri: optionalText.pipe(httpUrl.optional()),
  AzureWebJobsStorage__queueServiceUri: optionalText.pipe(httpUrl.optional()),
  AzureWebJobsStorage__clientId: optionalText,
  KEY_VAULT_URI: httpUrl,
  KEY_VAULT_ALLOW_INSECURE: flag,
  AZURE_CLIENT_ID: optionalText,
  ENTRA_AUTHORITY_HOST: optionalText.pipe(httpUrl.default('https://login.microsoftonline.com')),
  BACKOFFICE_ALLOW_LOOPBACK: flag,
  APPOINTMENTS_QUEUE: optionalText.pipe(queueName.default(defaultQueueNames.appointments)),
  APPOINTMENT_RETRIES_QUEUE: optionalText.pipe(queueName.default(defaultQueueNames.appointmentRetries)),
  SYNC_RETRY_DELAYS_SECONDS: optionalText.pipe(
    z
      .string()
      .regex(/^\d+(\.\d+)?(,\d+(\.\d+)?)*$/, 'must be a comma-separated list of seconds, e.g. 5,30,120')
      .default('5,30,120,600,1800,3600')
      .transform((s) => s.split(',').map((n) => Math.round(Number(n) * 1000))),
  ),
  ACTION_URI_SCHEMES: optionalText.pipe(
    z
      .string()
      .regex(/^[a-z][a-z0-9+.-]*(,[a-z][a-z0-9+.-]*)*$/i, 'must be a comma-separated list of URI schemes')
      .default('https,http,dynamicsnav,ms-dynamics,mailto,tel')
      .transform((s) => s.split(',').map((x) => x.trim().toLowerCase())),
  ),
  SYNC_RETRY_HORIZON_HOURS: numberSetting(
    z
      .number()
      .positive()
      .max(24 * 7),
    24,
  ),
  SYNC_MAX_CONCURRENCY_PER_CONNECTOR: numberSetting(z.number().int().min(1).max(100), 5),
  SYNC_CONNECTOR_CACHE_SECONDS: numberSetting(z.number().min(0).max(3600), 15),
});

export type RawConfig = z.infer<typeof configSchema>;

export interface AppConfig {
  storage:
    | { kind: 'connectionString'; connectionString: string }
    | { kind: 'identity'; tableServiceUri: string; queueServiceUri: string; clientId?: string };
  keyVault: { uri: string; allowInsecure: boolean };
  managedIdentityClientId?: string;
  entraAuthorityHost: string;
  backOfficeAllowLoopback: boolean;
  queues: { appointments: string; appointmentRetries: string };
  actionUriSchemes: string[];
  sync: {
    retryDelaysMs: number[];
    retryHorizonMs: number;
    maxConcurrencyPerConnector: number;
    connectorCacheMs: number;
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/** Rules that span settings. They read the raw values so they report even when another setting is bad. */
function crossSettingProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const has = (name: string) => Boolean(env[name]?.trim());
  if (
    !has('AzureWebJobsStorage') &&
    !(has('AzureWebJobsStorage__tableServiceUri') && has('AzureWebJobsStorage__queueServiceUri'))
  ) {
    problems.push(
      'AzureWebJobsStorage: set a connection string, or AzureWebJobsStorage__tableServiceUri and AzureWebJobsStorage__queueServiceUri for identity-based access',
    );
  }
  const vault = env.KEY_VAULT_URI ?? '';
  if (/^(true|1)$/.test(env.KEY_VAULT_ALLOW_INSECURE ?? '') && vault.startsWith('http:') && !isLoopbackUrl(vault)) {
    problems.push('KEY_VAULT_ALLOW_INSECURE: http is only allowed for a loopback Key Vault (the local emulator)');
  }
  return problems;
}

/** Parses every setting at once and reports every bad one in a single error. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = configSchema.safeParse(env);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.message}`)),
    ...crossSettingProblems(env),
  ];
  if (!parsed.success || problems.length) throw new ConfigError(problems);
  const c = parsed.data;
  return {
    storage:
      c.AzureWebJobsStorage !== undefined
        ? { kind: 'connectionString', connectionString: c.AzureWebJobsStorage }
        : {
            kind: 'identity',
            tableServiceUri: c.AzureWebJobsStorage__tableServiceUri!,
            queueServiceUri: c.AzureWebJobsStorage__queueServiceUri!,
            clientId: c.AzureWebJobsStorage__clientId ?? c.AZURE_CLIENT_ID,
          },
    keyVault: { uri: c.KEY_VAULT_URI, allowInsecure: c.KEY_VAULT_ALLOW_INSECURE },
    managedIdentityClientId: c.AZURE_CLIENT_ID,
    entraAuthorityHost: c.ENTRA_AUTHORITY_HOST.replace(/\/+$/, ''),
    backOfficeAllowLoopback: c.BACKOFFICE_ALLOW_LOOPBACK,
    queues: { appointments: c.APPOINTMENTS_QUEUE, appointmentRetries: c.APPOINTMENT_RETRIES_QUEUE },
    actionUriSchemes: c.ACTION_URI_SCHEMES,
    sync: {
      retryDelaysMs: c.SYNC_RETRY_DELAYS_SECONDS,
      retryHorizonMs: c.SYNC_RETRY_HORIZON_HOURS * 3_600_000,
      maxConcurrencyPerConnector: c.SYNC_MAX_CONCURRENCY_PER_CONNECTOR,
      connectorCacheMs: c.SYNC_CONNECTOR_CACHE_SECONDS * 1000,
    },
  };
}
