// `npm run bench [-- <section>... ] [--quick] [--runs=N]`: fleetcron and node-cron 4.6 side by side, every
// measurement in a fresh child process. Sections: import, accuracy, scale (together: core), election, postgres,
// records, ipc, pm2, background; all by default.
import { cpus } from 'node:os';
import { backgroundSection } from './background.js';
import { accuracySection } from './core-accuracy.js';
import { scaleSection } from './core-scale.js';
import { electionSection } from './election.js';
import { importSection } from './import-cost.js';
import { clusterIpcSection } from './cluster-ipc.js';
import { installCleanup, stopAll } from './lib/cleanup.js';
import type { BenchSettings, Section } from './lib/section.js';
import { pm2Section } from './pm2.js';
import { postgresSection } from './postgres.js';
import { recordsSection } from './records.js';

const SECTIONS: readonly Section[] = [
  importSection, accuracySection, scaleSection, electionSection, postgresSection, recordsSection, clusterIpcSection, pm2Section, backgroundSection,
];
const GROUPS: Record<string, readonly string[]> = { core: ['accuracy', 'scale'], all: SECTIONS.map((s) => s.name) };

const USAGE = `usage: npm run bench -- [${[...SECTIONS.map((s) => s.name), ...Object.keys(GROUPS)].join('|')}]... [--quick] [--runs=N]`;

function parseArguments(argv: readonly string[]): { sections: Section[]; settings: BenchSettings } {
  const names = new Set<string>();
  let quick = false;
  let runs: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg.startsWith('--runs')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      runs = Number(value);
      if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs needs a positive integer (got ${value})\n${USAGE}`);
    } else if (GROUPS[arg]) GROUPS[arg].forEach((name) => names.add(name));
    else if (SECTIONS.some((s) => s.name === arg)) names.add(arg);
    else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  const chosen = names.size === 0 ? SECTIONS : SECTIONS.filter((s) => names.has(s.name));
  return { sections: [...chosen], settings: { quick, runs: runs ?? (quick ? 1 : 3) } };
}

let parsed: ReturnType<typeof parseArguments>;
try {
  parsed = parseArguments(process.argv.slice(2));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}
const { sections, settings } = parsed;
installCleanup();
console.log('# fleetcron benchmarks\n');
console.log(
  `${new Date().toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'} · ` +
    `${settings.quick ? 'quick mode, ' : ''}${settings.runs} run(s) per measurement · node-cron 4.6.0 as the reference\n`,
);
const began = performance.now();
for (const section of sections) {
  const started = performance.now();
  console.log(`## ${section.title}\n`);
  try {
    console.log(await section.run(settings));
  } catch (error) {
    process.exitCode = 1;
    console.log(`**failed:** ${error instanceof Error ? error.message : String(error)}`);
  }
  console.log(`\n_${section.name}: ${((performance.now() - started) / 1000).toFixed(0)} s_\n`);
}
await stopAll();
console.log(`_total: ${((performance.now() - began) / 1000).toFixed(0)} s_`);
