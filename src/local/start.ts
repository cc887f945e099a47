// `npm start`: Azurite, the Key Vault emulator and the Functions host stand-in, serving the built app.
// LOCAL_HOST_INSTANCES=N runs N host processes on PORT..PORT+N-1 over the one Azurite and emulator, each
// polling the queues and running the timers as a separate Azure instance would.
// Ctrl-C or SIGTERM drains the hosts and stops every child process.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isLoopbackUrl } from '../platform/config';
import { type AzuritePorts, defaultAzuritePorts, type RunningAzurite, startAzurite, stopChild } from './azurite';
import { type HostOptions, type RunningHost, resolveSetting, startHost } from './host';
import { KeyVaultEmulator } from './keyVaultEmulator';
import { applySettings, readLocalSettings } from './localSettings';
import { instancePorts, isPortFree, type PortClaim } from './ports';

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
    console.log('Stopped.');
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

/**
 * Another host process. Its lines are shown whole, each behind its port; its ready line is not (the banner says
 * where every instance listens). When it dies while the others run, that is said.
 */
function spawnInstance(port: number, env: Record<string, string>, stopping: () => boolean): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!], {
    env: {
      ...process.env,
      ...env,
      LOCAL_HOST_ROLE: 'instance',
      PORT: String(port),
      LOCAL_INSTANCE_NAME: `host:${port}`,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return new Promise((resolvePromise, reject) => {
    let ready = false;
    let partial = '';
    child.stdout!.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith(READY)) {
          ready = true;
          resolvePromise(child);
        } else if (line.trim()) process.stdout.write(`[${port}] ${line}\n`);
      }
    });
    child.once('exit', (code, signal) => {
      process.removeListener('exit', killOnExit);
      if (!ready) reject(new Error(`host instance on port ${port} exited (code ${code}) before it was ready`));
      else if (!stopping())
        console.log(`Host instance on port ${port} stopped (${signal ?? `code ${code}`}); the others go on.`);
    });
  });
}

async function main(): Promise<void> {
  const { file, settings } = readLocalSettings(appRoot);
  applySettings(settings.Values);
  if (process.env.LOCAL_HOST_ROLE === 'instance') return runInstance();
  const port = Number(process.env.PORT ?? settings.Host?.LocalHttpPort ?? 7071);
  // Delivery rows, log lines and deep health name each host process by its port.
  process.env.LOCAL_INSTANCE_NAME ??= `host:${port}`;
  const instances = Number(process.env.LOCAL_HOST_INSTANCES || 1);
  if (!Number.isInteger(instances) || instances < 1 || instances > 16)
    throw new Error('LOCAL_HOST_INSTANCES must be a whole number from 1 to 16');
  const persist = process.env.LOCAL_PERSIST === 'true';
  const dataDir = join(appRoot, '.local-data');

  const vaultUrl = new URL(process.env.KEY_VAULT_URI ?? 'http://127.0.0.1:7072');
  const runVault = isLoopbackUrl(vaultUrl.toString());
  const azuritePorts = localAzuritePorts(process.env.AzureWebJobsStorage ?? '');
  const runAzurite = azuritePorts !== undefined;

  const reserved: PortClaim[] = [
    ...(runVault
      ? [{ port: Number(vaultUrl.port || 80), what: 'the Key Vault emulator', setting: 'KEY_VAULT_URI' }]
      : []),
    ...Object.entries(azuritePorts ?? {}).map(([name, p]) => ({
      port: p,
      what: `Azurite's ${name} service`,
      setting: 'AzureWebJobsStorage',
    })),
  ];
  const hostPorts = instancePorts(port, instances, reserved);
  const wanted: Array<[number, string]> = [
    ...hostPorts.map((p, i): [number, string] => [
      p,
      i === 0
        ? 'Functions host (set PORT to change it)'
        : `Functions host instance ${i + 1} (set PORT to move them all)`,
    ]),
    ...reserved.map((r): [number, string] => [r.port, `${r.what} (see ${r.setting})`]),
  ];
  for (const [p, what] of wanted) {
    if (!(await isPortFree(p)))
      throw new Error(`Port ${p} is already in use (${what}). Stop whatever holds it and try again.`);
  }

  let azurite: RunningAzurite | undefined;
  let vault: KeyVaultEmulator | undefined;
  let host: RunningHost | undefined;
  const others: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    // Every host at once: one that waited for the others would still start timers and take messages meanwhile.
    await Promise.all([...others.map((child) => stopChild(child)), host?.stop().catch(() => undefined)]);
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
    for (const p of hostPorts.slice(1)) others.push(await spawnInstance(p, shared, () => stopping));
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
  console.log(`Callers:            ${authModeLine()}`);
  if (instances > 1)
    console.log(`Host instances:     ${instances}, on ports ${hostPorts.join(', ')}, sharing the queues`);
  for (const fn of host.functions.values()) {
    const trigger = Object.values(fn.metadata.bindings).find((b) => /Trigger$/.test(b.type));
    if (trigger?.type === 'httpTrigger') {
      const methods = Array.isArray(trigger.methods) ? trigger.methods.join(',') : 'ANY';
      console.log(
        `  ${fn.metadata.name}: [${methods}] ${host.url}/${host.settings.routePrefix}/${String(trigger.route ?? fn.metadata.name)}`,
      );
    } else {
      const what =
        trigger?.type === 'timerTrigger'
          ? `timer, ${resolveSetting(String(trigger.schedule ?? ''))} (UTC)`
          : `queue ${resolveSetting(String(trigger?.queueName ?? ''))}`;
      console.log(
        `  ${fn.metadata.name}: ${what} (run it now with POST ${host.url}/admin/functions/${fn.metadata.name})`,
      );
    }
  }
  console.log('\nPress Ctrl-C to stop.');
}

/** Who may call, in one line: the AUTH_MODE the app runs with. */
function authModeLine(): string {
  if ((process.env.AUTH_MODE ?? 'entra') === 'off')
    return 'AUTH_MODE=off: nobody is checked (local only; refused in Azure)';
  return `AUTH_MODE=entra: Entra ID tokens of tenant ${process.env.AUTH_TENANT_ID ?? '(AUTH_TENANT_ID not set)'} for ${process.env.AUTH_AUDIENCE ?? '(AUTH_AUDIENCE not set)'}, with a role`;
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
