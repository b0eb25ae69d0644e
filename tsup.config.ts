import { defineConfig } from 'tsup';

export default defineConfig({
  // Each public subpath is an entry; the background daemon is one too, since it is forked by path.
  entry: {
    index: 'src/index.ts',
    redis: 'src/redis.ts',
    postgres: 'src/postgres.ts',
    pm2: 'src/pm2.ts',
    'pm2-arbiter': 'src/pm2-arbiter.ts',
    metrics: 'src/metrics.ts',
    daemon: 'src/background/daemon.ts',
    // The fleetcron command (bin): its own entry, so `import 'fleetcron'` loads none of it.
    cli: 'src/cli/main.ts',
  },
  format: ['esm', 'cjs'],
  dts: {
    // The declarations of pm2-arbiter (a program: no exports) came out as its shebang line alone, which TypeScript
    // takes for a script, so `import('fleetcron/pm2-arbiter')` failed to type-check (TS2306, "is not a module"). An
    // `export {}` at the end of every declaration file makes each a module; in the others it changes nothing.
    footer: 'export {};',
  },
  clean: true,
  // No source maps: they would point at src/, which is not shipped, and the CommonJS ones (merged through sucrase,
  // below) also at this machine's dist/ and tsup's own shim file. The bundles are not minified and mark where each
  // source file starts (`// src/tasks/inline-task.ts`), so stack frames into dist/ read well as they are.
  sourcemap: false,
  target: 'node20',
  // No shared chunks: each entry is one file with its own copy of the code it needs. `require('fleetcron')` then
  // reads and compiles one file instead of five (a third of its import time went to that), and the copies of two
  // entries in one process (fleetcron and fleetcron/redis, say) share one state through process-state.ts, as an ES
  // module and a CommonJS copy do. The CommonJS files come from esbuild directly, with no chunks to convert.
  splitting: false,
  shims: true,
  external: ['pm2', 'ioredis', 'redis', 'pg', 'prom-client'],
  // esbuild renames what it must keep apart in a bundle (a class that refers to itself: `class _CronSchedule`, two
  // functions of one name: `setRunCoordinator2`); keepNames gives each its own name back (`.name`).
  keepNames: true,
});
