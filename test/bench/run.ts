// `npm run bench`: figures side by side with the named peers. Not a test: nothing here fails a build.
// Sections that start the app run in a process of their own: the app's services are process-wide.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { benchColdStart } from './coldStart';
import { benchConnectors } from './connectors';
import { benchCost } from './cost';
import { benchDeliveryLog } from './deliveryLog';
import { benchRecover } from './recover';
import { benchScaleOut } from './scaleOut';
import { benchSync } from './sync';
import { benchUriTemplates } from './uriTemplates';

const root = resolve(__dirname, '..', '..', '..');
const only = process.argv[2];
const sections: Record<string, () => unknown> = {
  'cold-start': () => benchColdStart(root),
  'uri-templates': () => benchUriTemplates(),
  connectors: () => benchConnectors(root),
  'delivery-log': () => benchDeliveryLog(),
  sync: () => benchSync(root),
  cost: () => benchCost(root),
  'scale-out': () => benchScaleOut(root),
  recover: () => benchRecover(root),
};

async function main(): Promise<void> {
  if (only) {
    const section = sections[only];
    if (!section) throw new Error(`Unknown section "${only}"; one of ${Object.keys(sections).join(', ')}`);
    await section();
    return;
  }
  for (const name of Object.keys(sections)) {
    const run = spawnSync(process.execPath, [__filename, name], { stdio: 'inherit' });
    if (run.status !== 0) throw new Error(`bench section ${name} failed`);
  }
}

// A signal ends the run through process.exit, so the 'exit' hooks stop Azurite and the fakes.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
