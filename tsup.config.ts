import { defineConfig } from 'tsup';

export default defineConfig({
  // Each public subpath is an entry; the background daemon is one too, since it is forked by path.
  entry: {
    index: 'src/index.ts',
    redis: 'src/redis.ts',
    pm2: 'src/pm2.ts',
    'pm2-arbiter': 'src/pm2-arbiter.ts',
    daemon: 'src/background/daemon.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node20',
  splitting: true,
  shims: true,
  external: ['pm2', 'ioredis', 'redis'],
});
