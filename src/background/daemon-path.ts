import { existsSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The daemon entry beside this module: `daemon.ts` next to the sources (run under a loader such as tsx, which the
 * daemon inherits), else the ESM build `daemon.js` next to the built chunk that holds this code — also from the
 * CommonJS build, whose daemon would load task files with require(), which takes neither ES modules nor file URLs.
 * The daemon is a process of its own, so the parent's module format does not matter to it.
 */
export function daemonFile(): string {
  const here = fileURLToPath(import.meta.url);
  const file = join(dirname(here), extname(here) === '.ts' ? 'daemon.ts' : 'daemon.js');
  if (!existsSync(file)) {
    throw new Error(`fleetcron: the background daemon ${file} is missing; when bundling an app, keep fleetcron external so its daemon file ships beside it`);
  }
  return file;
}
