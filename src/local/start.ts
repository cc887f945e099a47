// `npm start`: Azurite, the Key Vault emulator and the Functions host stand-in, serving the built app.
// Ctrl-C or SIGTERM drains the host and stops every child process.
import { join, resolve } from 'node:path';
import { isLoopbackUrl } from '../platform/config';
import { type AzuritePorts, defaultAzuritePorts, type RunningAzurite, startAzurite } from './azurite';
import { type RunningHost, startHost } from './host';
import { KeyVaultEmulator } from './keyVaultEmulator';
import { applySettings, readLocalSettings } from './localSettings';
import { isPortFree } from './ports';

const appRoot = resolve(__dirname, '..', '..', '..');

/** Azurite's ports when the storage setting points at a local emulator; undefined for a real account. */
function localAzuritePorts(connectionString: string): AzuritePorts | undefined {
  if (/UseDevelopmentStorage=true/i.test(connectionString)) return defaultAzuritePorts;
  const port = (name: string) => {
    const m = new RegExp(`${name}Endpoint=http://(127\\.0\\.0\\.1|localhost):(\\d+)`, 'i').exec(connectionString);
    return m ? Number(m[2]) : undefined;
  };
  const [blob, queue, table] = [port('Blob'), port('Queue'), port('Table')];
  return blob && queue && table ? { blob, queue, table } : undefined;
}

async function main(): Promise<void> {
  const { file, settings } = readLocalSettings(appRoot);
  applySettings(settings.Values);
  const port = Number(process.env.PORT ?? settings.Host?.LocalHttpPort ?? 7071);
  const persist = process.env.LOCAL_PERSIST === 'true';
  const dataDir = join(appRoot, '.local-data');

  const vaultUrl = new URL(process.env.KEY_VAULT_URI ?? 'http://127.0.0.1:7072');
  const runVault = isLoopbackUrl(vaultUrl.toString());
  const azuritePorts = localAzuritePorts(process.env.AzureWebJobsStorage ?? '');
  const runAzurite = azuritePorts !== undefined;

  const wanted: Array<[number, string]> = [[port, 'Functions host (set PORT to change it)']];
  if (runVault) wanted.push([Number(vaultUrl.port || 80), 'Key Vault emulator (see KEY_VAULT_URI)']);
  for (const [name, p] of Object.entries(azuritePorts ?? {})) wanted.push([p, `Azurite ${name} service`]);
  for (const [p, what] of wanted) {
    if (!(await isPortFree(p)))
      throw new Error(`Port ${p} is already in use (${what}). Stop whatever holds it and try again.`);
  }

  let azurite: RunningAzurite | undefined;
  let vault: KeyVaultEmulator | undefined;
  let host: RunningHost | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: draining the host and stopping the local services...`);
    await host?.stop().catch(() => undefined);
    await vault?.stop().catch(() => undefined);
    await azurite?.stop().catch(() => undefined);
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(signal));
  watchParent(() => void shutdown('the process that started npm start exited'));

  try {
    if (runAzurite)
      azurite = await startAzurite({ ports: azuritePorts, location: persist ? join(dataDir, 'azurite') : undefined });
    if (runVault) {
      vault = new KeyVaultEmulator({
        port: Number(vaultUrl.port || 80),
        hostname: vaultUrl.hostname,
        dataDir: persist ? join(dataDir, 'keyvault') : undefined,
      });
      await vault.start();
    }
    host = await startHost({ appRoot, port });
  } catch (error) {
    await host?.stop().catch(() => undefined);
    await vault?.stop().catch(() => undefined);
    await azurite?.stop().catch(() => undefined);
    throw error;
  }

  console.log(`\nSettings: ${file}`);
  if (azurite)
    console.log(
      `Azurite:            blob ${azurite.ports.blob}, queue ${azurite.ports.queue}, table ${azurite.ports.table} (${persist ? 'persisted in .local-data/azurite' : 'in memory'})`,
    );
  if (vault)
    console.log(`Key Vault emulator: ${vault.url} (${persist ? 'persisted in .local-data/keyvault' : 'in memory'})`);
  console.log(`Functions host:     ${host.url}/api`);
  for (const fn of host.functions.values()) {
    const trigger = Object.values(fn.metadata.bindings).find((b) => /Trigger$/.test(b.type));
    if (trigger?.type === 'httpTrigger') {
      const methods = Array.isArray(trigger.methods) ? trigger.methods.join(',') : 'ANY';
      console.log(
        `  ${fn.metadata.name}: [${methods}] ${host.url}/${host.settings.routePrefix}/${String(trigger.route ?? fn.metadata.name)}`,
      );
    } else {
      console.log(
        `  ${fn.metadata.name}: ${trigger?.type} ${String(trigger?.queueName ?? '')} (run it with POST ${host.url}/admin/functions/${fn.metadata.name})`,
      );
    }
  }
  console.log('\nPress Ctrl-C to stop.');
}

/**
 * `npm start` runs this script under npm and a shell. A signal to npm reaches the shell, which dies without
 * passing it on: this process would live on, holding every port. So it also stops when its parent goes away.
 */
function watchParent(onGone: () => void): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, 250);
  timer.unref();
}

main().catch((error: Error) => {
  console.error(`npm start failed: ${error.message}`);
  process.exit(1);
});
