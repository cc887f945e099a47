// The Key Vault secret store when another writer deletes or recovers the same name while it waits for its own
// delete or recover to complete (a connector DELETE racing PUTs does exactly that).
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyVaultEmulator } from '../../src/local/keyVaultEmulator';
import { createKeyVaultSecretStore } from '../../src/secrets/keyVaultSecretStore';
import type { SecretStore } from '../../src/secrets/secretStore';
import { eventually } from '../support/eventually';

let vault: KeyVaultEmulator;
let other: SecretClient;
let store: SecretStore;
const POLL_MS = 50;

beforeAll(async () => {
  vault = new KeyVaultEmulator();
  await vault.start();
  const credential = { getToken: async () => ({ token: 'test', expiresOnTimestamp: Date.now() + 3_600_000 }) };
  other = new SecretClient(vault.url, credential, {
    allowInsecureConnection: true,
    disableChallengeResourceVerification: true,
  });
  store = createKeyVaultSecretStore(
    { keyVault: { uri: vault.url, allowInsecure: true }, managedIdentityClientId: undefined },
    { pollIntervalMs: POLL_MS, settleWithinMs: 5_000 },
  );
});
afterAll(() => vault.stop());

const live = (name: string) => vault.liveNames().includes(name);
const requested = (method: string, path: string) => () =>
  vault.requests.some((r) => r.method === method && r.path === path && r.authorized);
/** The store's looks at the result of its request answer "not yet" (404) until the other writer has acted. */
const notYet = (path: string) =>
  vault.injectFault({ method: 'GET', path: new RegExp(`^${path}$`), status: 404, times: 1_000 });

describe('Key Vault secret store under a concurrent writer', () => {
  it('a delete whose secret is recovered by someone else before it looks returns, its request accepted, instead of waiting forever', async () => {
    await store.set('race-delete', 'value-1');
    notYet('/deletedsecrets/race-delete');
    const deleting = store.delete('race-delete');
    await eventually(requested('GET', '/deletedsecrets/race-delete'), 10_000, 5);
    await (await other.beginRecoverDeletedSecret('race-delete')).pollUntilDone();
    vault.clearFaults();
    await expect(deleting).resolves.toBeUndefined();
    expect(live('race-delete')).toBe(true); // the recover came last, and it stands
  }, 30_000);

  it("a write whose recover is undone by someone else's delete recovers again and writes", async () => {
    await store.set('race-recover', 'value-1');
    await store.delete('race-recover');
    notYet('/secrets/race-recover/');
    const writing = store.set('race-recover', 'value-2'); // 409 (soft-deleted), so: recover, then write
    // The SDK looks (GET) before it recovers as well: the other writer acts once the recover was asked for.
    await eventually(requested('POST', '/deletedsecrets/race-recover/recover'), 10_000, 5);
    await (await other.beginDeleteSecret('race-recover')).pollUntilDone();
    vault.clearFaults();
    const ref = await writing;
    expect(await store.get(ref)).toBe('value-2');
    expect(live('race-recover')).toBe(true);
  }, 30_000);
});
