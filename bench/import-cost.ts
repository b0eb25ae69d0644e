import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt, REPO_ROOT } from './lib/build.js';
import { fixed, integer, verdict } from './lib/format.js';
import { startNode } from './lib/process.js';
import type { Section } from './lib/section.js';
import { median } from './lib/stats.js';
import { markdownTable, report, right, targetTable } from './lib/table.js';

/** cron-parser first: fleetcron depends on it, and its cost is the floor fleetcron's is measured against. */
const LOADED = ['cron-parser', 'fleetcron', 'node-cron', 'croner'] as const;
type Loaded = (typeof LOADED)[number];
const HOW = ['require', 'import'] as const;
type How = (typeof HOW)[number];
/** fleetcron's own code may add this much on top of cron-parser's load (issue 9). */
const OWN_SHARE_MAX = 0.3;

interface Sample {
  importMs: number;
  firstTaskMs: number;
}

const CHILD = fileURLToPath(new URL('./children/import-cost.mjs', import.meta.url));

async function sample(library: Loaded, how: How): Promise<Sample> {
  const child = startNode([CHILD, library, how, join(REPO_ROOT, 'dist')], { env: { ...process.env, FORCE_COLOR: '0' } });
  const outcome = await child.closedWithin(30_000);
  if (outcome === 'timeout' || outcome.code !== 0) throw new Error(`loading ${library} by ${how} failed:\n${child.output()}`);
  return JSON.parse(child.output().trim().split('\n').at(-1)!) as Sample;
}

/** Bytes and files under `path`. */
function footprint(path: string): { bytes: number; files: number } {
  const stats = statSync(path);
  if (!stats.isDirectory()) return { bytes: stats.size, files: 1 };
  return readdirSync(path).reduce(
    (total, name) => {
      const inner = footprint(join(path, name));
      return { bytes: total.bytes + inner.bytes, files: total.files + inner.files };
    },
    { bytes: 0, files: 0 },
  );
}

/** Where `name` is installed as seen from the package in `from`: node's lookup, up the node_modules folders. */
function packageDir(name: string, from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`${name} is not installed (looked up from ${from})`);
  }
}

/** The installed packages a dependency brings (itself, then its dependencies', as this repository's install has them). */
function closure(name: string, from = REPO_ROOT, seen = new Map<string, string>()): Map<string, string> {
  if (seen.has(name)) return seen;
  const dir = packageDir(name, from);
  seen.set(name, dir);
  const { dependencies = {} } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  for (const dependency of Object.keys(dependencies)) closure(dependency, dir, seen);
  return seen;
}

interface Installed {
  packages: string[];
  bytes: number;
  files: number;
}

/** What `npm install <library>` puts on disk; fleetcron as its tarball would unpack, plus its dependencies. */
function installed(library: Exclude<Loaded, 'cron-parser'>): Installed {
  if (library !== 'fleetcron') {
    const packages = closure(library);
    const sizes = [...packages.values()].map((dir) => footprint(dir));
    return { packages: [...packages.keys()], bytes: sizes.reduce((t, s) => t + s.bytes, 0), files: sizes.reduce((t, s) => t + s.files, 0) };
  }
  const packed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Array<{
    unpackedSize: number;
    entryCount: number;
  }>;
  const { dependencies = {} } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const deps = new Map<string, string>();
  for (const name of Object.keys(dependencies)) closure(name, REPO_ROOT, deps);
  const sizes = [...deps.values()].map((dir) => footprint(dir));
  return {
    packages: ['fleetcron', ...deps.keys()],
    bytes: packed[0]!.unpackedSize + sizes.reduce((t, s) => t + s.bytes, 0),
    files: packed[0]!.entryCount + sizes.reduce((t, s) => t + s.files, 0),
  };
}

export const importSection: Section = {
  name: 'import',
  title: 'Import cost and install footprint',
  async run({ quick, runs }) {
    const built = await ensureBuilt();
    const samples = quick ? 5 : 10 * runs;
    const results = new Map<string, Sample[]>();
    // Round robin, so that a drift of the machine touches every library alike.
    for (let i = 0; i < samples; i++) {
      for (const how of HOW) {
        for (const library of LOADED) {
          const key = `${library} ${how}`;
          results.set(key, [...(results.get(key) ?? []), await sample(library, how)]);
        }
      }
    }
    const med = (library: Loaded, how: How, field: keyof Sample) => median(results.get(`${library} ${how}`)!.map((s) => s[field]));
    const rows = HOW.flatMap((how) =>
      LOADED.map((library) => [how === 'require' ? `\`require()\`` : '`import()`', library, fixed(med(library, how, 'importMs')), fixed(med(library, how, 'firstTaskMs'))]),
    );
    const own = (how: How) => med('fleetcron', how, 'importMs') - med('cron-parser', how, 'importMs');
    const share = (how: How) => own(how) / med('cron-parser', how, 'importMs');
    const targets = HOW.map((how) => [
      `${how}: fleetcron's own code adds ≤ ${OWN_SHARE_MAX * 100} % to cron-parser's load`,
      `+${fixed(own(how))} ms (${fixed(share(how) * 100, 0)} %)`,
      verdict(share(how) <= OWN_SHARE_MAX),
    ]);
    const footprints = (['fleetcron', 'node-cron', 'croner'] as const).map((library) => {
      const f = installed(library);
      return [library, f.packages.join(', '), integer(f.files), fixed(f.bytes / 1e6, 2)];
    });
    return report(
      `${built} Each sample is a fresh \`node\` (no TypeScript loader) whose first statement loads the library — ` +
        "fleetcron's dist/ build, the others from node_modules — by `require()` or `import()`; then it schedules one " +
        "`*/5 * * * *` task and stops it (cron-parser, which schedules nothing, parses the expression and asks for its next " +
        `date). Times from the process's own clock, medians of ${samples} samples, libraries in turn.`,
      markdownTable(['load', 'library', ...right('import (ms)', 'import + first task (ms)')], rows),
      targetTable(9, ['measured'], targets),
      'Install footprint (the package and every package it brings, as installed here):',
      markdownTable(['library', 'packages installed', ...right('files', 'MB on disk')], footprints),
    );
  },
};
