import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The app's package.json version; found by walking up, since src/ and dist/src/ sit at different depths. */
export function appVersion(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '0.0.0';
    if (dirname(dir) === dir) return '0.0.0';
  }
}
