import { defineConfig } from 'tsup';

export default defineConfig({
  // Each public subpath is an entry; the background daemon is one too, since it is forked by path.
  entry: {
    index: 'src/index.ts',
    redis: 'src/redis.ts',
    postgres: 'src/postgres.ts',
    pm2: 'src/pm2.ts',
    'pm2-arbiter': 'src/pm2-arbiter.ts',
    daemon: 'src/background/daemon.ts',
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
  splitting: true,
  shims: true,
  external: ['pm2', 'ioredis', 'redis', 'pg'],
  // esbuild renames what it must keep apart in a bundle (a class that refers to itself: `class _CronSchedule`, two
  // functions of one name: `setRunCoordinator2`); keepNames gives each its own name back (`.name`).
  keepNames: true,
  esbuildOptions(options, { format }) {
    // The CommonJS build is split like the ESM one (one copy of the code for every entry), so tsup turns esbuild's
    // ESM chunks into CommonJS with sucrase, whose syntax transforms are not configurable: it lowers class fields by
    // wrapping the class, `var X = (_class = class { ... }, _class)`, and the class is then named `_class`, in `.name`
    // and in every stack frame (`_class7.invoke`); it also rewrites `?.` and `??` into helper calls. esbuild lowers
    // these itself for this build (class fields keep their define semantics), so sucrase only converts the imports.
    if (format === 'cjs') {
      options.supported = {
        ...options.supported,
        'class-field': false,
        'class-static-field': false,
        'optional-chain': false,
        'nullish-coalescing': false,
        'logical-assignment': false,
        'optional-catch-binding': false,
      };
    }
  },
});
