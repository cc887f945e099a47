import { z } from 'zod';
import { type Bounds, boundsOf } from './deadline';
import { AppError } from './errors';
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
  TABLE_NAME_PREFIX: optionalText.pipe(
    z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9]{0,19}$/, 'must be 1-20 letters and digits, starting with a letter')
      .optional(),
  ),
  APPOINTMENTS_QUEUE: optionalText.pipe(queueName.default(defaultQueueNames.appointments)),
  APPOINTMENT_RETRIES_QUEUE: optionalText.pipe(queueName.default(defaultQueueNames.appointmentRetries)),
  RECOVERIES_QUEUE: optionalText.pipe(queueName.default(defaultQueueNames.recoveries)),
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
  SYNC_CONNECTOR_CACHE_SECONDS: numberSetting(z.number().min(0).max(3600), 15),
  HEALTH_FLUSH_SECONDS: numberSetting(z.number().min(0.1).max(600), 30),
  SYNC_BATCH_MAX_OPERATIONS: numberSetting(z.number().int().min(1).max(100), 100),
  SYNC_BATCH_LINGER_MS: numberSetting(z.number().int().min(0).max(5000), 50),
  SYNC_CLAIM_LEASE_SECONDS: numberSetting(z.number().int().min(5).max(3600), 300),
  BACKOFFICE_TIMEOUT_SECONDS: numberSetting(z.number().int().min(1).max(600), 100),
  DEPENDENCY_TIMEOUT_SECONDS: numberSetting(z.number().int().min(3).max(300), 30),
  BACKOFFICE_MAX_CONCURRENT_PER_PRINCIPAL: numberSetting(z.number().int().min(1).max(100), 5),
  BACKOFFICE_REQUESTS_PER_WINDOW: numberSetting(z.number().int().min(1).max(1_000_000), 6000),
  BACKOFFICE_WINDOW_SECONDS: numberSetting(z.number().int().min(1).max(3600), 300),
  DELIVERY_RETENTION_DAYS: numberSetting(z.number().positive().max(3650), 30),
  AUDIT_RETENTION_DAYS: numberSetting(z.number().positive().max(3650), 365),
  CREDENTIAL_EXPIRY_WARNING_DAYS: numberSetting(z.number().int().min(1).max(365), 30),
  AUTH_MODE: optionalText.pipe(z.enum(['entra', 'off'], { error: 'must be entra or off' }).default('entra')),
  AUTH_TENANT_ID: optionalText,
  AUTH_AUDIENCE: optionalText,
  /** Set by App Service / Azure Functions on every instance: how the app knows it runs in Azure. */
  WEBSITE_INSTANCE_ID: optionalText,
});

export type RawConfig = z.infer<typeof configSchema>;

const DAY_MS = 86_400_000;

export interface AppConfig {
  storage:
    | { kind: 'connectionString'; connectionString: string }
    | { kind: 'identity'; tableServiceUri: string; queueServiceUri: string; clientId?: string };
  keyVault: { uri: string; allowInsecure: boolean };
  managedIdentityClientId?: string;
  entraAuthorityHost: string;
  backOfficeAllowLoopback: boolean;
  /** The longest one request to a back office may take (a token request: at most 30 s of it). */
  backOfficeTimeoutMs: number;
  /** How long one call to storage or Key Vault may take, its tries included (an HTTP request: 10 s at most). */
  dependencies: Bounds;
  queues: { appointments: string; appointmentRetries: string; recoveries: string };
  /** Put before every table name: apps (or test runs) that share a storage account keep their tables apart. */
  tablePrefix: string;
  actionUriSchemes: string[];
  sync: {
    retryDelaysMs: number[];
    retryHorizonMs: number;
    connectorCacheMs: number;
    batchMaxOperations: number;
    batchLingerMs: number;
    /** How long a claim on a revision holds when its instance dies: longer than any send may take. */
    claimLeaseMs: number;
    /** The longest a send may take once its claims are checked: what a claim must still have left. */
    sendBoundMs: number;
    /** How often an instance adds its counts to the connectors' health rows. */
    healthFlushMs: number;
  };
  /** Business Central's limits per principal (user or service principal), kept across all instances. */
  budget: { maxConcurrent: number; requestsPerWindow: number; windowMs: number; localWaitMs: number; leaseMs: number };
  retention: { deliveriesMs: number; auditMs: number };
  credentialExpiryWarningMs: number;
  auth: { mode: 'off' } | { mode: 'entra'; tenantId: string; audience: string };
}

/** Settings that do not parse. Names the settings and the rules, never the values. */
export class ConfigError extends AppError {
  override readonly name = 'ConfigError';
  readonly status = 503;
  readonly code = 'misconfigured';
  readonly title = 'The service is misconfigured';
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

/**
 * How long a change may wait for a request slot before it is deferred: waiting is cheap backpressure (the host
 * takes no more messages while its invocations wait), a deferral costs storage writes and a trip round the queue.
 */
const BUDGET_LOCAL_WAIT_MS = 30_000;

/** How long an instance's share of a principal's slots lasts without renewal: what a dead instance's slots wait. */
const BUDGET_LEASE_MS = 15_000;

/**
 * The longest a send takes once it holds a request permit: a token and the request, twice when a 401
 * refreshes the token. A claim must have this long left when the request goes, or a newer revision could be
 * sent while this one is still on its way.
 */
export const sendBoundMs = (backOfficeTimeoutMs: number) =>
  2 * (Math.min(30_000, backOfficeTimeoutMs) + backOfficeTimeoutMs);

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
  if (env.AUTH_MODE?.trim() === 'off' && has('WEBSITE_INSTANCE_ID')) {
    problems.push(
      'AUTH_MODE: off is for local use only; in Azure set AUTH_MODE=entra with AUTH_TENANT_ID and AUTH_AUDIENCE',
    );
  }
  if ((env.AUTH_MODE?.trim() || 'entra') === 'entra') {
    if (!has('AUTH_TENANT_ID'))
      problems.push("AUTH_TENANT_ID: required when AUTH_MODE is entra (the tenant that issues the callers' tokens)");
    if (!has('AUTH_AUDIENCE'))
      problems.push(
        "AUTH_AUDIENCE: required when AUTH_MODE is entra (the app registration's application ID URI or client id)",
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
  if (parsed.success) {
    const bound = sendBoundMs(parsed.data.BACKOFFICE_TIMEOUT_SECONDS * 1000) / 1000;
    if (parsed.data.SYNC_CLAIM_LEASE_SECONDS < bound + 10)
      problems.push(
        `SYNC_CLAIM_LEASE_SECONDS: must be at least ${bound + 10} with BACKOFFICE_TIMEOUT_SECONDS=${parsed.data.BACKOFFICE_TIMEOUT_SECONDS} (a claim outlasts the longest send: a token and the request, twice after a 401, and 10 s to spare)`,
      );
  }
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
    backOfficeTimeoutMs: c.BACKOFFICE_TIMEOUT_SECONDS * 1000,
    dependencies: boundsOf(c.DEPENDENCY_TIMEOUT_SECONDS * 1000),
    tablePrefix: c.TABLE_NAME_PREFIX ?? '',
    queues: {
      appointments: c.APPOINTMENTS_QUEUE,
      appointmentRetries: c.APPOINTMENT_RETRIES_QUEUE,
      recoveries: c.RECOVERIES_QUEUE,
    },
    actionUriSchemes: c.ACTION_URI_SCHEMES,
    sync: {
      retryDelaysMs: c.SYNC_RETRY_DELAYS_SECONDS,
      retryHorizonMs: c.SYNC_RETRY_HORIZON_HOURS * 3_600_000,
      connectorCacheMs: c.SYNC_CONNECTOR_CACHE_SECONDS * 1000,
      batchMaxOperations: c.SYNC_BATCH_MAX_OPERATIONS,
      batchLingerMs: c.SYNC_BATCH_LINGER_MS,
      claimLeaseMs: c.SYNC_CLAIM_LEASE_SECONDS * 1000,
      sendBoundMs: sendBoundMs(c.BACKOFFICE_TIMEOUT_SECONDS * 1000),
      healthFlushMs: c.HEALTH_FLUSH_SECONDS * 1000,
    },
    budget: {
      maxConcurrent: c.BACKOFFICE_MAX_CONCURRENT_PER_PRINCIPAL,
      requestsPerWindow: c.BACKOFFICE_REQUESTS_PER_WINDOW,
      windowMs: c.BACKOFFICE_WINDOW_SECONDS * 1000,
      localWaitMs: BUDGET_LOCAL_WAIT_MS,
      leaseMs: BUDGET_LEASE_MS,
    },
    retention: { deliveriesMs: c.DELIVERY_RETENTION_DAYS * DAY_MS, auditMs: c.AUDIT_RETENTION_DAYS * DAY_MS },
    credentialExpiryWarningMs: c.CREDENTIAL_EXPIRY_WARNING_DAYS * DAY_MS,
    auth:
      c.AUTH_MODE === 'off'
        ? { mode: 'off' }
        : { mode: 'entra', tenantId: c.AUTH_TENANT_ID!, audience: c.AUTH_AUDIENCE! },
  };
}
