// `npm run bench`: figures side by side with the named peers. Not a test: nothing here fails a build.
import { resolve } from 'node:path';
import { benchColdStart } from './coldStart';
import { benchConnectors } from './connectors';
import { benchSync } from './sync';
import { benchUriTemplates } from './uriTemplates';

const root = resolve(__dirname, '..', '..', '..');
const only = process.argv[2];

async function main(): Promise<void> {
  if (!only || only === 'cold-start') benchColdStart(root);
  if (!only || only === 'connectors') await benchConnectors(root);
  if (!only || only === 'uri-templates') benchUriTemplates();
  if (!only || only === 'sync') await benchSync(root);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
