import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config';

const valid = {
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  KEY_VAULT_URI: 'https://kv-example.vault.azure.net/',
};

describe('loadConfig', () => {
  it('applies defaults', () => {
    const config = loadConfig(valid);
    expect(config).toMatchObject({
      storage: { kind: 'connectionString' },
      keyVault: { uri: valid.KEY_VAULT_URI, allowInsecure: false },
      entraAuthorityHost: 'https://login.microsoftonline.com',
      backOfficeAllowLoopback: false,
      queues: { appointments: 'appointments' },
    });
  });

  it('reads identity-based storage settings', () => {
    const config = loadConfig({
      KEY_VAULT_URI: valid.KEY_VAULT_URI,
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

describe('the README', () => {
  it('documents every setting the app reads', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { configSchema } = await import('../../src/platform/config');
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const missing = Object.keys(configSchema.shape).filter((name) => !readme.includes(`\`${name.replace(/__.*/, '')}`));
    expect(missing).toEqual([]);
  });
});
