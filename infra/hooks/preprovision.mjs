#!/usr/bin/env node
// azd preprovision hook: the vault after `azd down`. Purge protection keeps a deleted vault's name for 90 days,
// and `azd down --purge` cannot purge it, so provisioning the same environment again would fail on the vault.
// This finds a soft-deleted vault of this environment (by its azd-env-name tag, in this resource group) under
// the name the template will use, and either gives the environment a new vault (the next free
// KEY_VAULT_NAME_SUFFIX: the default, because `azd down` took the connectors with the storage account) or, with
// KEY_VAULT_ON_DELETED=recover, brings the old one back with its secrets (KEY_VAULT_RECOVER=true for this
// provisioning). It says what it did; it never stops a deployment (without the Azure CLI it says what to do).
//
// Plain Node (no dependencies), so it runs on any machine that builds the app; `az` and `azd` from PATH.
import { spawnSync } from 'node:child_process';

const env = process.env;
const say = (line) => console.log(`preprovision: ${line}`);

function run(command, args) {
  const result = spawnSync(command, args, { encoding: 'utf8', shell: process.platform === 'win32' });
  if (result.error || result.status !== 0)
    throw new Error((result.stderr || result.error?.message || `exit code ${result.status}`).trim());
  return result.stdout;
}

const setEnv = (name, value) => {
  run('azd', ['env', 'set', name, value]);
  say(`azd env set ${name} ${value}`);
};

function main() {
  const environment = env.AZURE_ENV_NAME;
  if (!environment) return say('AZURE_ENV_NAME is not set (run me through azd): nothing checked.');
  const suffix = (env.KEY_VAULT_NAME_SUFFIX ?? '').toLowerCase();
  const recover = env.KEY_VAULT_RECOVER === 'true';
  const group = (env.AZURE_RESOURCE_GROUP ?? '').toLowerCase();

  let deleted;
  try {
    const args = ['keyvault', 'list-deleted', '--resource-type', 'vault', '--output', 'json'];
    if (env.AZURE_SUBSCRIPTION_ID) args.push('--subscription', env.AZURE_SUBSCRIPTION_ID);
    deleted = JSON.parse(run('az', args) || '[]');
  } catch (error) {
    say(`could not list soft-deleted vaults with the Azure CLI (${String(error.message).split('\n')[0]}).`);
    say('If provisioning then fails on the vault name, run `az login` and provision again: this hook picks a new');
    say('name (or set KEY_VAULT_NAME_SUFFIX yourself, docs/deployment.md).');
    return;
  }

  // This environment's deleted vaults: its tag, and (when azd knows it) its resource group.
  const ours = deleted.filter(
    (v) =>
      v.properties?.tags?.['azd-env-name'] === environment &&
      (!group ||
        String(v.properties?.vaultId ?? '')
          .toLowerCase()
          .includes(`/resourcegroups/${group}/`)),
  );
  // The template names the vault kv-<13 characters of a hash><suffix>; the deleted vault shows the hash part.
  const base = (name) => name.slice(0, 'kv-'.length + 13);
  const blocking = ours.find((v) => v.name.toLowerCase() === `${base(v.name)}${suffix}`.toLowerCase());

  if (!blocking) {
    if (recover) {
      say('no soft-deleted vault of this environment to recover: the vault is live again.');
      setEnv('KEY_VAULT_RECOVER', 'false');
    } else say(`no soft-deleted vault of environment ${environment} in the way.`);
    return;
  }
  if (recover) return say(`recovering soft-deleted vault ${blocking.name} with its secrets (KEY_VAULT_RECOVER=true).`);

  const purge = blocking.properties?.scheduledPurgeDate?.slice(0, 10) ?? 'in 90 days';
  if (env.KEY_VAULT_ON_DELETED === 'recover') {
    say(`vault ${blocking.name} is soft-deleted (purge protection keeps it until ${purge}); recovering it with its`);
    say('secrets, as KEY_VAULT_ON_DELETED=recover asks.');
    setEnv('KEY_VAULT_RECOVER', 'true');
    return;
  }
  // Every name taken by a deleted vault with this base, of any environment: the suffix must avoid all of them.
  const taken = new Set(deleted.map((v) => v.name.toLowerCase()));
  const stem = base(blocking.name).toLowerCase();
  let next = 2;
  while (taken.has(`${stem}${next}`)) next++;
  say(`vault ${blocking.name} is soft-deleted (purge protection keeps its name until ${purge}): this environment`);
  say(`takes a new vault, ${stem}${next}. The old one's secrets belonged to connectors deleted with the storage`);
  say(`account. To bring it back instead: azd env set KEY_VAULT_NAME_SUFFIX ${suffix || '""'} and`);
  say('azd env set KEY_VAULT_ON_DELETED recover, then azd provision.');
  setEnv('KEY_VAULT_NAME_SUFFIX', String(next));
}

try {
  main();
} catch (error) {
  say(`failed: ${error.message}`);
  process.exit(1);
}
