// The preprovision hook (infra/hooks/preprovision.mjs) against stand-ins for the Azure CLI and azd: `az` answers
// what `az keyvault list-deleted` answers (or fails as it does when nobody is logged in), `azd` records each
// `azd env set`. The hook must find this environment's soft-deleted vault, pick the next free suffix (or recover
// it when asked), say so, and never stop a deployment.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/repoRoot';

const bin = mkdtempSync(join(tmpdir(), 'preprovision-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));
writeFileSync(
  join(bin, 'az'),
  '#!/bin/sh\necho "$*" >> "$FAKE_LOG"\nif [ -n "$FAKE_AZ_ERROR" ]; then echo "$FAKE_AZ_ERROR" >&2; exit 1; fi\ncat "$FAKE_AZ_OUTPUT"\n',
);
writeFileSync(join(bin, 'azd'), '#!/bin/sh\necho "azd $*" >> "$FAKE_LOG"\n');
chmodSync(join(bin, 'az'), 0o755);
chmodSync(join(bin, 'azd'), 0o755);

const SUB = '11111111-2222-3333-4444-555555555555';
/** A deleted vault as `az keyvault list-deleted` lists it. */
const deletedVault = (name: string, env: string, group = 'rg-bocs-trial') => ({
  id: `/subscriptions/${SUB}/providers/Microsoft.KeyVault/locations/swedencentral/deletedVaults/${name}`,
  name,
  type: 'Microsoft.KeyVault/deletedVaults',
  properties: {
    deletionDate: '2026-12-01T10:00:00+00:00',
    location: 'swedencentral',
    purgeProtectionEnabled: true,
    scheduledPurgeDate: '2027-03-01T10:00:00+00:00',
    tags: { 'azd-env-name': env, application: 'backoffice-connector-service' },
    vaultId: `/subscriptions/${SUB}/resourceGroups/${group}/providers/Microsoft.KeyVault/vaults/${name}`,
  },
});

let run = 0;
function hook(deleted: unknown[] | { error: string }, env: Record<string, string> = {}) {
  const dir = join(bin, String(++run));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  const output = join(dir, 'az.json');
  const log = join(dir, 'calls.log');
  writeFileSync(output, Array.isArray(deleted) ? JSON.stringify(deleted) : '');
  writeFileSync(log, '');
  const result = spawnSync(process.execPath, [join(repoRoot, 'infra', 'hooks', 'preprovision.mjs')], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      FAKE_AZ_OUTPUT: output,
      FAKE_LOG: log,
      FAKE_AZ_ERROR: Array.isArray(deleted) ? '' : deleted.error,
      AZURE_ENV_NAME: 'bocs-trial',
      AZURE_RESOURCE_GROUP: 'rg-bocs-trial',
      AZURE_SUBSCRIPTION_ID: SUB,
      ...env,
    },
  });
  const calls = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
  return { status: result.status, out: result.stdout + result.stderr, calls };
}

describe('the preprovision hook', () => {
  it('asks the Azure CLI for the soft-deleted vaults of the subscription', () => {
    const { calls } = hook([]);
    expect(calls).toEqual([`keyvault list-deleted --resource-type vault --output json --subscription ${SUB}`]);
  });

  it('does nothing when no deleted vault of this environment is in the way', () => {
    const { status, out, calls } = hook([
      deletedVault('kv-abcdefghijklm', 'another-env'),
      deletedVault('kv-zyxwvutsrqpon', 'bocs-trial', 'rg-elsewhere'),
    ]);
    expect(status).toBe(0);
    expect(out).toBe('preprovision: no soft-deleted vault of environment bocs-trial in the way.\n');
    expect(calls.filter((c) => c.startsWith('azd'))).toEqual([]);
  });

  it('after azd down: gives the environment a new vault, the next suffix no deleted vault holds, and says so', () => {
    const { status, out, calls } = hook([
      deletedVault('kv-abcdefghijklm', 'bocs-trial'),
      deletedVault('kv-abcdefghijklm2', 'someone-else'), // a name is a name, whoever held it
    ]);
    expect(status).toBe(0);
    expect(calls.filter((c) => c.startsWith('azd'))).toEqual(['azd env set KEY_VAULT_NAME_SUFFIX 3']);
    expect(out).toContain(
      'preprovision: vault kv-abcdefghijklm is soft-deleted (purge protection keeps its name until 2027-03-01): this environment\npreprovision: takes a new vault, kv-abcdefghijklm3.',
    );
    expect(out).toContain('preprovision: azd env set KEY_VAULT_NAME_SUFFIX 3');
  });

  it('after a second azd down: the vault under the current suffix is the one in the way', () => {
    const { calls } = hook(
      [deletedVault('kv-abcdefghijklm', 'bocs-trial'), deletedVault('kv-abcdefghijklm3', 'bocs-trial')],
      { KEY_VAULT_NAME_SUFFIX: '3' },
    );
    expect(calls.filter((c) => c.startsWith('azd'))).toEqual(['azd env set KEY_VAULT_NAME_SUFFIX 2']);
  });

  it('recovers the old vault with its secrets instead when KEY_VAULT_ON_DELETED=recover', () => {
    const { out, calls } = hook([deletedVault('kv-abcdefghijklm', 'bocs-trial')], { KEY_VAULT_ON_DELETED: 'recover' });
    expect(calls.filter((c) => c.startsWith('azd'))).toEqual(['azd env set KEY_VAULT_RECOVER true']);
    expect(out).toContain('recovering it with its');
  });

  it('turns KEY_VAULT_RECOVER off again once the vault is live', () => {
    const { out, calls } = hook([], { KEY_VAULT_RECOVER: 'true' });
    expect(calls.filter((c) => c.startsWith('azd'))).toEqual(['azd env set KEY_VAULT_RECOVER false']);
    expect(out).toContain('no soft-deleted vault of this environment to recover: the vault is live again.');
  });

  it('never stops a deployment: without a logged-in Azure CLI it says what to do', () => {
    const { status, out, calls } = hook({ error: "ERROR: Please run 'az login' to setup account." });
    expect(status).toBe(0);
    expect(out).toContain(
      "preprovision: could not list soft-deleted vaults with the Azure CLI (ERROR: Please run 'az login' to setup account.).",
    );
    expect(calls.filter((c) => c.startsWith('azd'))).toEqual([]);
  });
});
