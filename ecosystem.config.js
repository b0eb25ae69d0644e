// A working PM2 setup: `pm2 start ecosystem.config.js` (after `npm run build`, which builds dist/).
// The app runs in cluster mode; PM2's own daemon is its cluster primary and runs no user code, so a separate
// fork-mode app, the fleetcron arbiter, answers the elections of every instance over PM2's bus: each fire of a
// `distributed: true` task runs on exactly one instance. With REDIS_URL set on the arbiter, elections also span
// every host that shares that Redis.
// This package is ESM, so this file is too; PM2 loads it with require(), which takes ES modules on Node >= 20.19.
// In a CommonJS project write `module.exports = { apps: [...] }` with `require.resolve('fleetcron/pm2-arbiter')`.
import { fileURLToPath } from 'node:url';

export const apps = [
  {
    name: 'fleetcron-arbiter',
    script: fileURLToPath(import.meta.resolve('fleetcron/pm2-arbiter')),
    exec_mode: 'fork',
    instances: 1,
  },
  {
    name: 'fleetcron-demo',
    script: fileURLToPath(new URL('./examples/pm2/app.js', import.meta.url)),
    exec_mode: 'cluster',
    instances: 3,
  },
];
