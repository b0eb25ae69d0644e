// What a user gets from the registry: `npm pack` of a snapshot of this checkout, installed into a fresh project
// from the tarball, then checked from there with plain node and with the TypeScript of this repository.
// One pack and one install serve every check (beforeAll); the checks' processes run side by side, a few at a time.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(REPO, 'node_modules/typescript/bin/tsc');
/** The public subpaths that can be imported; `fleetcron/pm2-arbiter` is a program (importing it runs the arbiter). */
const MODULES = ['fleetcron', 'fleetcron/redis', 'fleetcron/postgres', 'fleetcron/pm2', 'fleetcron/metrics'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Packed {
  filename: string;
  size: number;
  entryCount: number;
  files: Array<{ path: string }>;
}

/** Every process still running, by pid (each leads its own process group): afterAll ends them all. */
const running = new Set<number>();

/** Runs a command to its end in its own process group (so a timeout or afterAll ends its children too); never rejects. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env, timeoutMs = 90_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const pid = child.pid!;
    running.add(pid);
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      killGroup(pid);
    }, timeoutMs);
    child.on('error', (error) => (stderr += `\n${error.message}`));
    child.on('close', (code) => {
      clearTimeout(timer);
      running.delete(pid);
      resolve({ code, stdout, stderr });
    });
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** At most `n` of the queued jobs at a time: the machine has two cores, shared. */
function limiter(n: number): <T>(job: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: Array<() => void> = [];
  return (job) =>
    new Promise((resolve, reject) => {
      const start = () => {
        active++;
        job()
          .then(resolve, reject)
          .finally(() => {
            active--;
            queue.shift()?.();
          });
      };
      if (active < n) start();
      else queue.push(start);
    });
}

/** npm without the settings of an npm that may have started this test (`npm test --silent` would hide warnings). */
const npmEnv: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) || /^npm_config_(cache|registry|userconfig)$/i.test(key))),
  npm_config_update_notifier: 'false',
  npm_config_loglevel: 'warn',
  FORCE_COLOR: '0',
};

/** When anything under `path` last changed (a directory changes when a file is removed from it). */
function newest(path: string): number {
  const stats = statSync(path);
  return stats.isDirectory() ? Math.max(stats.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name)))) : stats.mtimeMs;
}

/** When the oldest file under `path` was written. */
function oldestFile(path: string): number {
  const stats = statSync(path);
  return stats.isDirectory() ? Math.min(...readdirSync(path).map((name) => oldestFile(join(path, name)))) : stats.mtimeMs;
}

/** True when the checkout's dist/ was built after the last change to anything it is built from. */
function distIsFresh(): boolean {
  const dist = join(REPO, 'dist');
  if (!existsSync(dist) || readdirSync(dist).length === 0) return false;
  const inputs = ['src', 'tsup.config.ts', 'tsconfig.json', 'package.json'].map((input) => newest(join(REPO, input)));
  return oldestFile(dist) >= Math.max(...inputs);
}

/** Every path a manifest field names (main, exports, bin, ...). */
function targetsOf(manifest: Record<string, unknown>): string[] {
  const targets: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') targets.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  for (const field of ['main', 'module', 'types', 'typings', 'bin', 'exports', 'typesVersions']) walk(manifest[field]);
  return targets.map((target) => posix.normalize(target));
}

/** The conditions used anywhere in an exports map. */
function conditionsOf(exportsMap: unknown): Set<string> {
  const conditions = new Set<string>();
  const walk = (value: unknown): void => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return;
    for (const [key, inner] of Object.entries(value)) {
      if (!key.startsWith('.')) conditions.add(key);
      walk(inner);
    }
  };
  walk(exportsMap);
  return conditions;
}

// --- the files of the consuming project --------------------------------------------------------------------------

/** Loads every module subpath both ways and describes what each exposes: name -> kind (and a function's own name). */
const EXPORTS_SCRIPT = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const describe = (m) => Object.fromEntries(Object.keys(m).sort().map((k) => [k, typeof m[k] === 'function' ? 'function ' + m[k].name : typeof m[k]]));
const out = {};
for (const name of ${JSON.stringify(MODULES)}) out[name] = { esm: describe(await import(name)), cjs: describe(require(name)) };
out.arbiter = { esm: import.meta.resolve('fleetcron/pm2-arbiter'), cjs: 'file://' + require.resolve('fleetcron/pm2-arbiter') };
console.log(JSON.stringify(out));
`;

/** The stack of a task function's call, seen from inside it: frames of fleetcron's own classes. */
const stackScript = (load: string) => `
Error.stackTraceLimit = 50;
${load}
const task = cron.createTask('* * * * *', () => console.log(JSON.stringify(new Error('probe').stack.split('\\n').slice(1))));
Promise.resolve(task.execute()).finally(() => task.destroy());
`;

/**
 * An ES module app whose CommonJS dependency (`report-lib`) requires fleetcron too: node loads both builds, each with
 * its own module scope. What either copy sets or schedules, the other sees; it reports what it saw.
 */
const DUAL_LIB = `
const cron = require('fleetcron');
let ran = 0;
exports.cron = cron;
exports.runs = () => ran;
exports.start = () => cron.schedule('* * * * * *', () => void ran++, { name: 'lib-report', distributed: true, timezone: 'UTC', timeZone: 'UTC' });
`;
const DUAL_APP = `
import cron, { serveCluster } from 'fleetcron';
import { createRequire } from 'node:module';
const lib = createRequire(import.meta.url)('report-lib');
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const names = (copy) => [...copy.getTasks().values()].map((t) => t.name).sort();
const logged = [];
cron.setLogger({ info: (m) => logged.push(m), warn: (m) => logged.push(m), error: (m) => logged.push(String(m)), debug() {} });
const out = { twoCopies: lib.cron.schedule !== cron.schedule };
// The app serves its cluster's elections; the library's distributed task (no NODE_CRON_RUN) is elected by it.
const handle = serveCluster();
try { lib.cron.serveCluster(); out.secondServe = 'served'; } catch (error) { out.secondServe = error.message; }
lib.start();
cron.schedule('* * * * * *', () => undefined, { name: 'app-report' });
out.esmSees = names(cron);
out.cjsSees = names(lib.cron);
out.timers = timers();
for (let i = 0; i < 100 && lib.runs() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
out.libRan = lib.runs() > 0;
await handle.close();
// A coordinator set through one copy is the process-wide one of both.
lib.cron.setRunCoordinator(new lib.cron.MemoryRunCoordinator());
try { cron.createTask('* * * * *', () => undefined, { name: 'app-distributed', distributed: true, timezone: 'UTC' }); out.sharedCoordinator = true; }
catch (error) { out.sharedCoordinator = error.message; }
await cron.shutdown(1000);
out.afterShutdown = { esm: cron.getTasks().size, cjs: lib.cron.getTasks().size, timers: timers() };
out.logged = logged;
console.log(JSON.stringify(out));
`;

/** fleetcron/metrics required (the CommonJS build) counts the tasks of the imported ES module build: one observer list. */
const METRICS_APP = `
import cron from 'fleetcron';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { registerMetrics } = require('fleetcron/metrics');
const { Registry } = require('prom-client');
const registry = new Registry();
const metrics = registerMetrics({ registry });
let runs = 0;
const task = cron.schedule('* * * * * *', () => void runs++, { name: 'esm-task' });
for (let i = 0; i < 100 && runs === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
task.destroy();
const fires = (await registry.getMetricsAsJSON()).find((m) => m.name === 'fleetcron_fires_total');
metrics.close();
console.log(JSON.stringify({ runs, fires: fires.values.map((v) => ({ labels: v.labels, value: v.value })) }));
`;

/**
 * Which of node's own modules loading fleetcron brings, and which its first in-process task does: the ones only
 * distributed and background tasks need (node:cluster, node:child_process) are loaded when one first needs them.
 */
const lazyScript = (load: string) => `
const before = new Set(process.moduleLoadList);
const loadedSince = () => process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule ')).map((m) => m.slice(13));
${load}
const cron = fleetcron.default;
const onImport = loadedSince();
cron.schedule('* * * * *', () => undefined).destroy();
const afterInlineTask = loadedSince();
cron.setRunCoordinator(new fleetcron.MemoryRunCoordinator());
cron.createTask('* * * * *', () => undefined, { distributed: true, name: 'lazy', timezone: 'UTC' }).destroy();
const afterDistributedTask = loadedSince();
// prom-client is CommonJS: loaded by either build, it would be in require's cache.
const promClient = Object.keys(require.cache).filter((file) => file.includes('/node_modules/prom-client/'));
console.log(JSON.stringify({ onImport, afterInlineTask, afterDistributedTask, promClient }));
`;

/** Type-checked from each module system: every subpath resolves, and to real types (an `any` would make the expected errors unused). */
const CONSUMER = `
import cron, { validate, type ScheduledTask } from 'fleetcron';
import { RedisLockCoordinator } from 'fleetcron/redis';
import { PostgresRunCoordinator, postgresSchemaSql, type FireRecord, type PgPoolLike } from 'fleetcron/postgres';
import { servePm2 } from 'fleetcron/pm2';
import * as arbiter from 'fleetcron/pm2-arbiter';
import { registerMetrics, type FleetcronMetrics } from 'fleetcron/metrics';

export const task: ScheduledTask = cron.schedule('* * * * *', () => undefined);
export const valid: boolean = validate('* * * * *');
export const Coordinator = RedisLockCoordinator;
// A pg.Pool by its shape: the declarations need no pg of the consumer's.
declare const pool: PgPoolLike;
export const postgres = new PostgresRunCoordinator(pool, { schema: 'app', retention: { perTask: 100 } });
export const records: Promise<FireRecord[]> = postgres.history('nightly', { limit: 5 });
export const ddl: string = postgresSchemaSql({ table: 'cron' });
export const serve = servePm2;
export const program = arbiter;
export const metrics: FleetcronMetrics = registerMetrics({ prefix: 'app_cron_' });
// @ts-expect-error validate() returns a boolean
export const notAString: string = validate('* * * * *');
// @ts-expect-error a coordinator needs a client
new RedisLockCoordinator();
// @ts-expect-error a coordinator needs a pool
new PostgresRunCoordinator();
// @ts-expect-error history() resolves to records, not a number
export const notRecords: Promise<number> = postgres.history('nightly');
// @ts-expect-error servePm2 takes options, not a number
servePm2(1);
// @ts-expect-error the prefix is a string
registerMetrics({ prefix: 1 });
`;

/**
 * One project per module resolution. nodenext, which takes both the .d.ts and the .d.cts files, also checks them
 * (skipLibCheck: false) against @types/node, as a Node project has it; the others check how the imports resolve,
 * which skipLibCheck does not skip, and leave the declarations' own check to it (checking @types/node four times
 * would cost seconds each).
 */
const TYPE_PROJECTS: Record<string, { compilerOptions: Record<string, unknown>; files: string[] }> = {
  // A default CommonJS project: `module: commonjs` resolves like node10 (no exports map, typesVersions instead).
  node10: { compilerOptions: { module: 'commonjs', esModuleInterop: true }, files: ['types/node10.ts'] },
  node16: { compilerOptions: { module: 'node16' }, files: ['types/esm.mts', 'types/cjs.cts'] },
  nodenext: { compilerOptions: { module: 'nodenext', skipLibCheck: false, types: ['node'] }, files: ['types/esm.mts', 'types/cjs.cts'] },
  bundler: { compilerOptions: { module: 'esnext', moduleResolution: 'bundler' }, files: ['types/bundler.ts'] },
};

describe('the packed tarball, installed into a fresh project', () => {
  let tmp: string | undefined;
  let app = '';
  let installed = '';
  let packed: Packed;
  let files: Set<string>;
  let manifest: Record<string, unknown>;
  let install: Run;
  const checks = new Map<string, Promise<Run>>();
  const check = (name: string) => checks.get(name)!;

  beforeAll(async () => {
    tmp = realpathSync(mkdtempSync(join(tmpdir(), 'fleetcron-pack-')));

    // Pack a snapshot of the checkout, not the checkout itself: packing builds dist/ (prepack), and other tests use
    // the checkout's dist/ meanwhile.
    const snapshot = join(tmp, 'package');
    const skip = new Set(['node_modules', '.git', 'dist', '.test-results', 'coverage']);
    cpSync(REPO, snapshot, { recursive: true, filter: (from) => !skip.has(relative(REPO, from).split(sep)[0]!) });
    symlinkSync(realpathSync(join(REPO, 'node_modules')), join(snapshot, 'node_modules'));
    // The build takes some 20 s of CPU, mostly the declarations. When the checkout's dist/ is newer than everything
    // it is built from, as `npm test` leaves it, the snapshot takes that build and packs without running scripts;
    // otherwise npm pack runs prepack, as it does for a publish.
    const reuse = distIsFresh();
    if (reuse) cpSync(join(REPO, 'dist'), join(snapshot, 'dist'), { recursive: true });
    const pack = await run('npm', ['pack', '--json', '--pack-destination', tmp, ...(reuse ? ['--ignore-scripts'] : [])], snapshot, npmEnv, 180_000);
    const json = pack.stdout.search(/^\[\s*\{/m);
    if (pack.code !== 0 || json < 0) throw new Error(`npm pack failed (${pack.code})\n${pack.stdout}\n${pack.stderr}`);
    packed = (JSON.parse(pack.stdout.slice(json)) as Packed[])[0]!;
    files = new Set(packed.files.map((f) => f.path));

    app = join(tmp, 'app');
    mkdirSync(join(app, 'types'), { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'fleetcron-consumer', version: '1.0.0', private: true, type: 'commonjs' }));
    // Offline but for fleetcron's dependency (cron-parser), which the local npm cache has from this repo's install.
    install = await run('npm', ['install', join(tmp, packed.filename), '--prefer-offline', '--no-audit', '--no-fund'], app, npmEnv, 90_000);
    if (install.code !== 0) throw new Error(`npm install of the tarball failed (${install.code})\n${install.stdout}\n${install.stderr}`);
    installed = join(app, 'node_modules/fleetcron');
    manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;

    writeFileSync(join(app, 'exports.mjs'), EXPORTS_SCRIPT);
    mkdirSync(join(app, 'node_modules/report-lib'));
    writeFileSync(join(app, 'node_modules/report-lib/package.json'), JSON.stringify({ name: 'report-lib', version: '1.0.0', main: 'index.js' }));
    writeFileSync(join(app, 'node_modules/report-lib/index.js'), DUAL_LIB);
    writeFileSync(join(app, 'dual.mjs'), DUAL_APP);
    writeFileSync(join(app, 'metrics.mjs'), METRICS_APP);
    writeFileSync(join(app, 'stack.cjs'), stackScript("const cron = require('fleetcron');"));
    writeFileSync(join(app, 'stack.mjs'), stackScript("import cron from 'fleetcron';"));
    writeFileSync(join(app, 'lazy.cjs'), lazyScript("const fleetcron = require('fleetcron');"));
    writeFileSync(join(app, 'lazy.mjs'), lazyScript("const fleetcron = await import('fleetcron'); const require = (await import('node:module')).createRequire(import.meta.url);"));
    for (const file of ['node10.ts', 'bundler.ts', 'esm.mts', 'cjs.cts']) writeFileSync(join(app, 'types', file), CONSUMER);
    // @types/node as this repository has it (fleetcron's declarations use Node's globals, such as URL).
    mkdirSync(join(app, 'node_modules/@types'), { recursive: true });
    symlinkSync(realpathSync(join(REPO, 'node_modules/@types/node')), join(app, 'node_modules/@types/node'));
    // prom-client, the optional peer of fleetcron/metrics, as the app would install it (its own dependencies are
    // found next to its real path, in this repository's node_modules).
    symlinkSync(realpathSync(join(REPO, 'node_modules/prom-client')), join(app, 'node_modules/prom-client'));
    const base = { strict: true, noEmit: true, skipLibCheck: true, types: [], target: 'es2022', lib: ['es2022'] };
    for (const [name, project] of Object.entries(TYPE_PROJECTS)) {
      const config = { compilerOptions: { ...base, ...project.compilerOptions }, files: project.files };
      writeFileSync(join(app, `tsconfig.${name}.json`), JSON.stringify(config, null, 2));
    }

    // Every check's process starts now, three at a time; each test awaits its own.
    const limit = limiter(3);
    const start = (name: string, command: string, args: string[], timeoutMs?: number) => checks.set(name, limit(() => run(command, args, app, process.env, timeoutMs)));
    const node = (name: string, args: string[], timeoutMs?: number) => start(name, process.execPath, args, timeoutMs);
    // The longest first: nodenext, which checks @types/node too.
    for (const name of ['nodenext', ...Object.keys(TYPE_PROJECTS).filter((n) => n !== 'nodenext')]) {
      node(`tsc ${name}`, [TSC, '-p', `tsconfig.${name}.json`, '--listFiles']);
    }
    node('exports', ['exports.mjs']);
    for (const script of ['lazy.cjs', 'lazy.mjs']) node(script, [script]);
    node('dual', ['dual.mjs'], 20_000); // a copy's task that outlives shutdown() would keep it running
    node('metrics', ['metrics.mjs'], 20_000);
    node('exports --conditions=source', ['--conditions=source', 'exports.mjs']);
    start('bin --help', join(app, 'node_modules/.bin/fleetcron-arbiter'), ['--help']); // as a shell runs it: shebang, mode
    start('fleetcron next', join(app, 'node_modules/.bin/fleetcron'), ['next', '*/5 * * * *', '-n', '2', '--tz', 'UTC', '--json']);
    for (const script of ['stack.cjs', 'stack.mjs']) {
      node(script, [script]);
      node(`${script} --enable-source-maps`, ['--enable-source-maps', script]);
    }
  }, 240_000);

  afterAll(async () => {
    for (const pid of running) killGroup(pid);
    await Promise.allSettled(checks.values());
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('installs without running anything: no install script, so npm has nothing to warn about', () => {
    expect(`${install.stdout}\n${install.stderr}`).not.toMatch(/install.?scripts?/i);
    const scripts = Object.keys((manifest.scripts ?? {}) as Record<string, string>);
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) expect(scripts, hook).not.toContain(hook);
    expect(files.has('binding.gyp')).toBe(false); // npm would run node-gyp for it
  });

  it('npm pack builds the package first (prepack), so the tarball has a dist/ made from its sources', () => {
    const scripts = (manifest.scripts ?? {}) as Record<string, string>;
    expect(scripts.prepack).toMatch(/\btsup\b|\bnpm run build\b/);
    if (scripts.prepack!.includes('npm run build')) expect(scripts.build).toMatch(/\btsup\b/);
    expect([...files].filter((file) => file.startsWith('dist/')).length).toBeGreaterThan(10);
  });

  it('every main/module/types/typesVersions/bin/exports target is a file of the tarball', () => {
    const targets = targetsOf(manifest);
    expect(targets.length).toBeGreaterThan(10);
    for (const target of targets) expect(files.has(target), `${target} is in the tarball`).toBe(true);
    // Only conditions every tool knows; a development one would point at files that are not shipped, or not loadable.
    expect([...conditionsOf(manifest.exports)].sort()).toEqual(['default', 'import', 'require', 'types']);
  });

  it('ships the MIT LICENSE that package.json names', () => {
    expect(manifest.license).toBe('MIT');
    expect(files.has('LICENSE')).toBe(true);
    const license = readFileSync(join(installed, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License/);
    expect(license).toContain('Copyright (c) 2026 the fleetcron authors');
  });

  it('import and require expose the same names, and classes and functions keep their names in both builds', async () => {
    const { code, stdout, stderr } = await check('exports');
    expect(code, stderr).toBe(0);
    const out = JSON.parse(stdout) as Record<string, { esm: Record<string, string>; cjs: Record<string, string> }>;
    for (const name of MODULES) {
      const { esm, cjs } = out[name]!;
      expect(Object.keys(esm).length, name).toBeGreaterThan(0);
      expect(cjs, `require('${name}') is import('${name}')`).toEqual(esm);
      for (const [key, kind] of Object.entries(esm)) if (key !== 'default' && kind.startsWith('function')) expect(kind, `${name}: ${key}`).toBe(`function ${key}`);
    }
    expect(out['fleetcron/redis']!.cjs.RedisLockCoordinator).toBe('function RedisLockCoordinator');
    expect(out['fleetcron/postgres']!.cjs).toEqual({ PostgresRunCoordinator: 'function PostgresRunCoordinator', postgresSchemaSql: 'function postgresSchemaSql' });
    expect(out.fleetcron!.cjs.MemoryRunCoordinator).toBe('function MemoryRunCoordinator');
    expect(out['fleetcron/metrics']!.cjs).toEqual({ registerMetrics: 'function registerMetrics' });
    // The program behind fleetcron/pm2-arbiter (and the bin), as each build resolves it.
    expect(out.arbiter!.esm).toMatch(/\/node_modules\/fleetcron\/dist\/pm2-arbiter\.js$/);
    expect(out.arbiter!.cjs).toMatch(/\/node_modules\/fleetcron\/dist\/pm2-arbiter\.cjs$/);
  });

  it('an ES module app and its CommonJS dependency, each loading fleetcron, share one process-wide state', async () => {
    const { code, stdout, stderr } = await check('dual');
    const out = JSON.parse(stdout || '{}') as Record<string, unknown>;
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(out.twoCopies, 'node loaded both builds').toBe(true);
    // One registry: each copy lists the other's task.
    expect(out.esmSees).toEqual(['app-report', 'lib-report']);
    expect(out.cjsSees).toEqual(['app-report', 'lib-report']);
    // One timer for the tasks of both copies.
    expect(out.timers).toBe(1);
    // One authority: the app's serveCluster() is the library's, which may not serve a second time.
    expect(out.secondServe).toMatch(/already serves elections/);
    expect(out.libRan, "the library's distributed task ran, elected by the app's authority").toBe(true);
    // One process-wide coordinator and one logger: the library's near-miss option was reported to the app's logger.
    expect(out.sharedCoordinator).toBe(true);
    expect((out.logged as string[]).some((line) => /timeZone.*did you mean `timezone`/.test(line)), JSON.stringify(out.logged)).toBe(true);
    // The app's shutdown() ends the library's tasks too, and leaves no timer.
    expect(out.afterShutdown).toEqual({ esm: 0, cjs: 0, timers: 0 });
  });

  it("fleetcron/metrics from the CommonJS build counts the fires of the ES module build's tasks", async () => {
    const { code, stdout, stderr } = await check('metrics');
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    const { runs, fires } = JSON.parse(stdout) as { runs: number; fires: Array<{ labels: Record<string, string>; value: number }> };
    expect(runs).toBeGreaterThan(0);
    expect(fires).toEqual([{ labels: { task: 'esm-task', outcome: 'succeeded' }, value: runs }]);
  });

  for (const script of ['lazy.cjs', 'lazy.mjs']) {
    it(`${script}: loading fleetcron and running in-process tasks never loads node:cluster, node:child_process or node:net (nor prom-client)`, async () => {
      const { code, stdout, stderr } = await check(script);
      expect(code, stderr).toBe(0);
      const { onImport, afterInlineTask, afterDistributedTask, promClient } = JSON.parse(stdout) as Record<string, string[]>;
      const distributedOnly = ['cluster', 'child_process', 'net'];
      for (const module of [...distributedOnly, 'crypto']) expect(onImport, `loaded on import: ${onImport!.join(', ')}`).not.toContain(module);
      for (const module of distributedOnly) expect(afterInlineTask, `loaded by an in-process task: ${afterInlineTask!.join(', ')}`).not.toContain(module);
      // The task's id needs crypto; a distributed task asks node:cluster whether it runs in a worker.
      expect(afterInlineTask).toContain('crypto');
      expect(afterDistributedTask).toContain('cluster');
      // prom-client is installed next to it, and loaded by fleetcron/metrics only.
      expect(promClient).toEqual([]);
    });
  }

  it('the main entry holds none of fleetcron/metrics: its code and prom-client are in dist/metrics.* only', () => {
    for (const file of ['dist/index.js', 'dist/index.cjs']) {
      const code = readFileSync(join(installed, file), 'utf8');
      expect(code, file).not.toContain('prom-client');
      expect(code, file).not.toContain('registerMetrics');
    }
    for (const file of ['dist/metrics.js', 'dist/metrics.cjs']) {
      // An import of prom-client, not a copy of it: it is the app's, as a peer.
      expect(readFileSync(join(installed, file), 'utf8'), file).toMatch(/from "prom-client"|require\("prom-client"\)/);
    }
    const peers = manifest.peerDependenciesMeta as Record<string, { optional?: boolean }>;
    expect(peers['prom-client']).toEqual({ optional: true });
  });

  it('node --conditions=source (a condition some tools set) loads the same package', async () => {
    const [plain, source] = await Promise.all([check('exports'), check('exports --conditions=source')]);
    expect(source.code, source.stderr).toBe(0);
    expect(source.stdout).toBe(plain.stdout);
  });

  it('the fleetcron-arbiter bin runs as a command', async () => {
    const { code, stdout, stderr } = await check('bin --help');
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('fleetcron-arbiter: answers the elections');
  });

  it('the fleetcron bin runs as a command: next prints the fires of an expression', async () => {
    const { code, stdout, stderr } = await check('fleetcron next');
    expect(code, stderr).toBe(0);
    const fires = JSON.parse(stdout) as Array<{ instant: string; local: string; timezone: string }>;
    expect(fires).toHaveLength(2);
    const [first, second] = fires.map((fire) => Date.parse(fire.instant));
    expect(first! % 300_000).toBe(0);
    expect(second! - first!).toBe(300_000);
    expect(fires[0]).toMatchObject({ timezone: 'UTC', local: fires[0]!.instant });
  });

  for (const script of ['stack.cjs', 'stack.mjs']) {
    for (const maps of [false, true]) {
      it(`${script}${maps ? ' --enable-source-maps' : ''}: stack frames name the classes and point at installed files`, async () => {
        const { code, stdout, stderr } = await check(`${script}${maps ? ' --enable-source-maps' : ''}`);
        expect(code, stderr).toBe(0);
        const frames = (JSON.parse(stdout) as string[]).map((line) => line.trim());
        const ours = frames.filter((frame) => frame.includes(`${sep}node_modules${sep}fleetcron${sep}`));
        expect(ours.length, frames.join('\n')).toBeGreaterThan(0);
        for (const frame of ours) {
          const file = /\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?$/.exec(frame)?.[1];
          expect(file, frame).toBeDefined();
          const path = file!.startsWith('file://') ? fileURLToPath(file!) : file!;
          expect(files.has(relative(installed, path).split(sep).join('/')), `${frame}: a file of the tarball`).toBe(true);
          expect(existsSync(path), `${frame}: installed`).toBe(true);
          expect(frame, 'no class renamed by the build').not.toMatch(/\b_class\d*\b/);
        }
        expect(ours.some((frame) => frame.includes('InlineScheduledTask.')), frames.join('\n')).toBe(true);
      });
    }
  }

  it('source maps, if any are shipped, refer only to files of the tarball', () => {
    const maps = [...files].filter((file) => file.endsWith('.map'));
    for (const map of maps) {
      const { sources, sourceRoot = '' } = JSON.parse(readFileSync(join(installed, map), 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const source of sources) expect(files.has(posix.join(posix.dirname(map), sourceRoot, source)), `${map}: ${source}`).toBe(true);
    }
    // Each built file that has a map says so, and that map is shipped.
    for (const file of [...files].filter((f) => /\.c?js$/.test(f))) {
      const reference = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(installed, file), 'utf8'))?.[1];
      if (reference) expect(files.has(posix.join(posix.dirname(file), reference)), `${file} -> ${reference}`).toBe(true);
    }
  });

  for (const [name, project] of Object.entries(TYPE_PROJECTS)) {
    it(`types resolve for every subpath with module resolution ${name} (${project.files.join(', ')})`, async () => {
      const { code, stdout, stderr } = await check(`tsc ${name}`);
      const errors = stdout.split('\n').filter((line) => /error TS\d+/.test(line));
      expect(errors, stderr).toEqual([]);
      expect(code).toBe(0);
      // Which declarations it took: CommonJS files the .d.cts ones, ES modules the .d.ts ones.
      const taken = stdout.split('\n').filter((line) => line.includes('/node_modules/fleetcron/'));
      for (const subpath of ['index', 'redis', 'postgres', 'pm2', 'pm2-arbiter', 'metrics']) {
        if (project.files.some((f) => f.endsWith('.cts'))) expect(taken, subpath).toContainEqual(expect.stringMatching(new RegExp(`/dist/${subpath}\\.d\\.cts$`)));
        expect(taken, subpath).toContainEqual(expect.stringMatching(new RegExp(`/dist/${subpath}\\.d\\.ts$`)));
      }
    });
  }
});
