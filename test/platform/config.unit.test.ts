import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config';

const valid = {
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  KEY_VAULT_URI: 'https://kv-example.vault.azure.net/',
  AUTH_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  AUTH_AUDIENCE: 'api://backoffice-connector',
};

describe('loadConfig', () => {
  it('applies defaults', () => {
    const config = loadConfig(valid);
    expect(config).toMatchObject({
      storage: { kind: 'connectionString' },
      keyVault: { uri: valid.KEY_VAULT_URI, allowInsecure: false },
      entraAuthorityHost: 'https://login.microsoftonline.com',
      backOfficeAllowLoopback: false,
      queues: { appointments: 'appointments', appointmentRetries: 'appointment-retries', recoveries: 'recoveries' },
      backOfficeTimeoutMs: 100_000,
      // A token (30 s) and the request (100 s), twice after a 401.
      sync: { batchMaxOperations: 100, batchLingerMs: 50, claimLeaseMs: 300_000, sendBoundMs: 260_000 },
      budget: { maxConcurrent: 5, requestsPerWindow: 6000, windowMs: 300_000 },
      retention: { deliveriesMs: 30 * 86_400_000 },
      credentialExpiryWarningMs: 30 * 86_400_000,
      auth: { mode: 'entra', tenantId: valid.AUTH_TENANT_ID, audience: valid.AUTH_AUDIENCE },
    });
  });

  it('checks callers by default: Entra needs a tenant and an audience, and "off" is refused in Azure', () => {
    const { AUTH_TENANT_ID: _t, AUTH_AUDIENCE: _a, ...withoutAuth } = valid;
    expect(() => loadConfig(withoutAuth)).toThrow(/AUTH_TENANT_ID[\s\S]*AUTH_AUDIENCE/);
    expect(loadConfig({ ...withoutAuth, AUTH_MODE: 'off' }).auth).toEqual({ mode: 'off' });
    expect(() => loadConfig({ ...withoutAuth, AUTH_MODE: 'off', WEBSITE_INSTANCE_ID: 'a1b2c3' })).toThrow(
      /AUTH_MODE: off is for local use only/,
    );
    expect(() => loadConfig({ ...valid, AUTH_MODE: 'none' })).toThrow(/AUTH_MODE: must be entra or off/);
  });

  it('keeps a claim on a revision longer than the longest send', () => {
    expect(() => loadConfig({ ...valid, SYNC_CLAIM_LEASE_SECONDS: '120' })).toThrow(
      'SYNC_CLAIM_LEASE_SECONDS: must be at least 270 with BACKOFFICE_TIMEOUT_SECONDS=100',
    );
    const short = loadConfig({ ...valid, BACKOFFICE_TIMEOUT_SECONDS: '4', SYNC_CLAIM_LEASE_SECONDS: '26' });
    expect(short.sync).toMatchObject({ claimLeaseMs: 26_000, sendBoundMs: 16_000 });
    expect(() => loadConfig({ ...valid, BACKOFFICE_TIMEOUT_SECONDS: '4', SYNC_CLAIM_LEASE_SECONDS: '25' })).toThrow(
      'SYNC_CLAIM_LEASE_SECONDS: must be at least 26 with BACKOFFICE_TIMEOUT_SECONDS=4',
    );
    expect(short.backOfficeTimeoutMs).toBe(4000);
  });

  it('reads identity-based storage settings', () => {
    const config = loadConfig({
      ...valid,
      AzureWebJobsStorage: undefined,
      AzureWebJobsStorage__tableServiceUri: 'https://st.table.core.windows.net',
      AzureWebJobsStorage__queueServiceUri: 'https://st.queue.core.windows.net',
      AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
    });
    expect(config.storage).toEqual({
      kind: 'identity',
      tableServiceUri: 'https://st.table.core.windows.net',
      queueServiceUri: 'https://st.queue.core.windows.net',
      clientId: '11111111-2222-3333-4444-555555555555',
    });
  });

  it('reports every bad setting in one error', () => {
    let error: unknown;
    try {
      loadConfig({
        KEY_VAULT_URI: 'not a url',
        BACKOFFICE_ALLOW_LOOPBACK: 'yes',
        APPOINTMENTS_QUEUE: 'Bad_Queue',
        ENTRA_AUTHORITY_HOST: 'ftp://x',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of [
      'AzureWebJobsStorage',
      'KEY_VAULT_URI',
      'BACKOFFICE_ALLOW_LOOPBACK',
      'APPOINTMENTS_QUEUE',
      'ENTRA_AUTHORITY_HOST',
    ]) {
      expect(problems).toContain(name);
    }
  });

  it('allows an insecure Key Vault only on loopback', () => {
    expect(() =>
      loadConfig({ ...valid, KEY_VAULT_URI: 'http://vault.example.com', KEY_VAULT_ALLOW_INSECURE: 'true' }),
    ).toThrow(/KEY_VAULT_ALLOW_INSECURE/);
    expect(
      loadConfig({ ...valid, KEY_VAULT_URI: 'http://127.0.0.1:7072', KEY_VAULT_ALLOW_INSECURE: 'true' }).keyVault
        .allowInsecure,
    ).toBe(true);
  });
});

describe('docs/configuration.md', () => {
  it('documents every setting the app reads', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { configSchema } = await import('../../src/platform/config');
    const readme = readFileSync(join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
    const missing = Object.keys(configSchema.shape).filter((name) => !readme.includes(`\`${name.replace(/__.*/, '')}`));
    expect(missing).toEqual([]);
  });
});
