// `npm start`: Azurite, the Key Vault emulator and the Functions host stand-in, serving the built app.
// LOCAL_HOST_INSTANCES=N runs N host processes on PORT..PORT+N-1 over the one Azurite and emulator, each
// polling the queues and running the timers as a separate Azure instance would.
// Ctrl-C or SIGTERM drains the hosts and stops every child process.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isLoopbackUrl } from '../platform/config';
import { type AzuritePorts, defaultAzuritePorts, type RunningAzurite, startAzurite, stopChild } from './azurite';
import { type HostOptions, type RunningHost, startHost } from './host';
import { KeyVaultEmulator } from './keyVaultEmulator';
import { applySettings, readLocalSettings } from './localSettings';
import { isPortFree } from './ports';

// The repository: three levels up from dist/src/local when built, two from src/local when run through tsx.
const appRoot = existsSync(resolve(__dirname, '..', '..', 'package.json'))
  ? resolve(__dirname, '..', '..')
  : resolve(__dirname, '..', '..', '..');
const READY = 'Functions host:     ';

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

/** Local-only knobs of one instance: another entry (tests run src/index.ts) and host.json overrides. */
function instanceOptions(port: number): HostOptions {
  return {
    appRoot,
    port,
    entry: process.env.LOCAL_ENTRY || undefined,
    hostSettings: process.env.LOCAL_HOST_SETTINGS ? JSON.parse(process.env.LOCAL_HOST_SETTINGS) : undefined,
  };
}

/** Stops everything on a signal, or when the process that started this one goes away. */
function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const shutdown = async (why: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${why}: draining and stopping...`);
    await stop().catch(() => undefined);
    process.exit(0);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(signal));
  watchParent(() => void shutdown('the process that started npm start exited'));
}

/** One more host process: the storage and the vault come from the first. */
async function runInstance(): Promise<void> {
  const host = await startHost(instanceOptions(Number(process.env.PORT)));
  onShutdown(() => host.stop());
  console.log(`${READY}${host.url}/api`);
}

function spawnInstance(port: number, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!], {
    env: { ...process.env, ...env, LOCAL_HOST_ROLE: 'instance', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  return new Promise((resolvePromise, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      const text = d.toString();
      process.stdout.write(text.replace(/^/gm, `[${port}] `));
      out += text;
      if (out.includes(READY)) resolvePromise(child);
    });
    child.once('exit', (code) => reject(new Error(`host instance on port ${port} exited (code ${code})`)));
  });
}

async function main(): Promise<void> {
  const { file, settings } = readLocalSettings(appRoot);
  applySettings(settings.Values);
  if (process.env.LOCAL_HOST_ROLE === 'instance') return runInstance();
  const port = Number(process.env.PORT ?? settings.Host?.LocalHttpPort ?? 7071);
  const instances = Number(process.env.LOCAL_HOST_INSTANCES || 1);
  if (!Number.isInteger(instances) || instances < 1 || instances > 16)
    throw new Error('LOCAL_HOST_INSTANCES must be a whole number from 1 to 16');
  const persist = process.env.LOCAL_PERSIST === 'true';
  const dataDir = join(appRoot, '.local-data');

  const vaultUrl = new URL(process.env.KEY_VAULT_URI ?? 'http://127.0.0.1:7072');
  const runVault = isLoopbackUrl(vaultUrl.toString());
  const azuritePorts = localAzuritePorts(process.env.AzureWebJobsStorage ?? '');
  const runAzurite = azuritePorts !== undefined;

  const wanted: Array<[number, string]> = Array.from({ length: instances }, (_, i) => [
    port + i,
    i === 0 ? 'Functions host (set PORT to change it)' : `Functions host instance ${i + 1}`,
  ]);
  if (runVault) wanted.push([Number(vaultUrl.port || 80), 'Key Vault emulator (see KEY_VAULT_URI)']);
  for (const [name, p] of Object.entries(azuritePorts ?? {})) wanted.push([p, `Azurite ${name} service`]);
  for (const [p, what] of wanted) {
    if (!(await isPortFree(p)))
      throw new Error(`Port ${p} is already in use (${what}). Stop whatever holds it and try again.`);
  }

  let azurite: RunningAzurite | undefined;
  let vault: KeyVaultEmulator | undefined;
  let host: RunningHost | undefined;
  const others: ChildProcess[] = [];
  const stopAll = async () => {
    await Promise.all(others.map((child) => stopChild(child)));
    await host?.stop().catch(() => undefined);
    await vault?.stop().catch(() => undefined);
    await azurite?.stop().catch(() => undefined);
  };
  onShutdown(stopAll);

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
    host = await startHost(instanceOptions(port));
    const shared = {
      ...(azurite ? { AzureWebJobsStorage: azurite.connectionString } : {}),
      ...(vault ? { KEY_VAULT_URI: vault.url } : {}),
    };
    for (let i = 1; i < instances; i++) others.push(await spawnInstance(port + i, shared));
  } catch (error) {
    await stopAll();
    throw error;
  }

  console.log(`\nSettings: ${file}`);
  if (azurite)
    console.log(
      `Azurite:            blob ${azurite.ports.blob}, queue ${azurite.ports.queue}, table ${azurite.ports.table} (${persist ? 'persisted in .local-data/azurite' : 'in memory'})`,
    );
  if (vault)
    console.log(`Key Vault emulator: ${vault.url} (${persist ? 'persisted in .local-data/keyvault' : 'in memory'})`);
  console.log(`${READY}${host.url}/api`);
  if (instances > 1)
    console.log(`Host instances:     ${instances}, on ports ${port}-${port + instances - 1}, sharing the queues`);
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
