import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNode } from './process.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** What the background bench loads from the build: the package entry and the daemon it forks by path. */
const OUTPUTS = ['dist/index.js', 'dist/daemon.js'].map((file) => join(REPO_ROOT, file));
/** What the build is made from. */
const INPUTS = ['src', 'tsup.config.ts', 'package.json'].map((file) => join(REPO_ROOT, file));
const BUILD_TIMEOUT_MS = 180_000;

function newest(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return Math.max(stats.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/**
 * Makes sure dist/ is built from the current sources: when an output is missing or older than a file of src/ (or the
 * build config), runs the repo's build (`tsup`, as `npm run build` does). Returns a sentence saying which; throws with
 * tsup's output when the build fails.
 */
export async function ensureBuilt(): Promise<string> {
  const built = Math.min(...OUTPUTS.map((file) => (existsSync(file) ? statSync(file).mtimeMs : 0)));
  const sources = Math.max(...INPUTS.map(newest));
  if (built >= sources) return `dist/ was up to date (built ${new Date(built).toISOString()}, after the last change to src/).`;
  const why = built === 0 ? 'dist/ was missing' : 'dist/ was older than src/';
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsup/package.json');
  const cli = join(dirname(manifest), (JSON.parse(readFileSync(manifest, 'utf8')) as { bin: Record<string, string> }).bin.tsup!);
  const started = performance.now();
  const tsup = startNode([cli], { env: { ...process.env, FORCE_COLOR: '0' }, cwd: REPO_ROOT });
  try {
    const outcome = await tsup.closedWithin(BUILD_TIMEOUT_MS);
    if (outcome === 'timeout' || outcome.code !== 0) {
      const how = outcome === 'timeout' ? `did not finish within ${BUILD_TIMEOUT_MS / 1000} s` : `failed (${outcome.signal ?? `code ${outcome.code}`})`;
      throw new Error(`${why} and the build (tsup) ${how}; fix it, or run \`npm run build\`:\n${tsup.output()}`);
    }
  } finally {
    await tsup.stop();
  }
  return `${why}: built it first (\`tsup\`, ${((performance.now() - started) / 1000).toFixed(0)} s).`;
}
