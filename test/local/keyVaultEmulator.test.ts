// Contract of the local Key Vault emulator, exercised with the real @azure/keyvault-secrets SecretClient.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyVaultEmulator } from '../../src/local/keyVaultEmulator';

const credential = { getToken: async () => ({ token: 'test', expiresOnTimestamp: Date.now() + 3_600_000 }) };
const clientFor = (url: string) =>
  new SecretClient(url, credential, {
    allowInsecureConnection: true,
    disableChallengeResourceVerification: true,
    retryOptions: { maxRetries: 0 },
  });
const status = async (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e: { statusCode?: number }) => e.statusCode,
  );

let vault: KeyVaultEmulator;
let client: SecretClient;
beforeAll(async () => {
  vault = new KeyVaultEmulator();
  await vault.start();
  client = clientFor(vault.url);
});
afterAll(() => vault.stop());

describe('Key Vault emulator with the real SecretClient', () => {
  it('answers the first, unauthenticated request with the 401 challenge, then accepts the bearer token', async () => {
    const set = await client.setSecret('handshake', 'v1');
    expect(set.value).toBe('v1');
    expect(vault.requests[0]).toMatchObject({ method: 'PUT', path: '/secrets/handshake', authorized: false });
    expect(vault.requests[1]).toMatchObject({ method: 'PUT', path: '/secrets/handshake', authorized: true });
    expect((await client.getSecret('handshake')).value).toBe('v1'); // the value was not stored empty
  });

  it('keeps versions: get latest, get by version, list versions, update properties', async () => {
    const v1 = await client.setSecret('versions', 'one', { contentType: 'text/plain', tags: { a: 'b' } });
    const v2 = await client.setSecret('versions', 'two');
    expect(v1.properties.version).toMatch(/^[\da-f]{32}$/);
    expect(v1.properties.version).not.toBe(v2.properties.version);
    expect((await client.getSecret('versions')).value).toBe('two');
    expect((await client.getSecret('versions', { version: v1.properties.version! })).value).toBe('one');
    expect(v1.properties.contentType).toBe('text/plain');
    const versions: string[] = [];
    for await (const p of client.listPropertiesOfSecretVersions('versions')) versions.push(p.version!);
    expect(versions.sort()).toEqual([v1.properties.version, v2.properties.version].sort());
    const updated = await client.updateSecretProperties('versions', v1.properties.version!, { enabled: false });
    expect(updated.enabled).toBe(false);
    expect(await status(client.getSecret('versions', { version: v1.properties.version! }))).toBe(403);
    const names: string[] = [];
    for await (const p of client.listPropertiesOfSecrets()) names.push(p.name);
    expect(names).toEqual(expect.arrayContaining(['handshake', 'versions']));
  });

  it('answers 404 SecretNotFound like Key Vault', async () => {
    const error = await client.getSecret('missing').catch((e) => e);
    expect(error.statusCode).toBe(404);
    expect(error.code).toBe('SecretNotFound');
    expect(await status(client.getSecret('versions', { version: '0'.repeat(32) }))).toBe(404);
  });

  it('soft-deletes, refuses the name with 409 while deleted, recovers and purges', async () => {
    await client.setSecret('lifecycle', 'keep-me');
    const deleting = await client.beginDeleteSecret('lifecycle', { intervalInMs: 10 });
    const deleted = await deleting.pollUntilDone();
    expect(deleted.recoveryId).toBe(`${vault.url}/deletedsecrets/lifecycle`);
    expect(await status(client.getSecret('lifecycle'))).toBe(404);
    expect((await client.getDeletedSecret('lifecycle')).name).toBe('lifecycle');
    const deletedNames: string[] = [];
    for await (const d of client.listDeletedSecrets()) deletedNames.push(d.name);
    expect(deletedNames).toContain('lifecycle');
    expect(await status(client.setSecret('lifecycle', 'again'))).toBe(409);

    const recovering = await client.beginRecoverDeletedSecret('lifecycle', { intervalInMs: 10 });
    await recovering.pollUntilDone();
    expect((await client.getSecret('lifecycle')).value).toBe('keep-me');

    await (await client.beginDeleteSecret('lifecycle', { intervalInMs: 10 })).pollUntilDone();
    await client.purgeDeletedSecret('lifecycle');
    expect(await status(client.getDeletedSecret('lifecycle'))).toBe(404);
    expect((await client.setSecret('lifecycle', 'fresh')).value).toBe('fresh');
  });

  it('treats names case-insensitively and refuses invalid names', async () => {
    await client.setSecret('MixedCase', 'x');
    expect((await client.getSecret('mixedcase')).value).toBe('x');
    expect(await status(client.setSecret('bad_name', 'x'))).toBe(400);
  });

  it('persists to a folder when asked', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kv-'));
    const first = new KeyVaultEmulator({ dataDir });
    await first.start();
    await clientFor(first.url).setSecret('durable', 'still-here');
    await first.stop();
    const second = new KeyVaultEmulator({ dataDir });
    await second.start();
    expect((await clientFor(second.url).getSecret('durable')).value).toBe('still-here');
    await second.stop();
  });

  it('fails on demand for fault-injection tests', async () => {
    vault.injectFault({ method: 'PUT', path: /^\/secrets\/flaky/, status: 503 });
    expect(await status(client.setSecret('flaky', 'x'))).toBe(503);
    expect((await client.setSecret('flaky', 'x')).value).toBe('x');
  });
});
