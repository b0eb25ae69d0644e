import { execFileSync } from 'node:child_process';
import nodeCron from 'node-cron';
import { describe, expect, it } from 'vitest';
import cron, * as named from '../../src/index.js';

describe('the public surface matches node-cron 4.6, name for name', () => {
  it('default export holds the same functions', () => {
    expect(Object.keys(cron).sort()).toEqual(Object.keys(nodeCron).sort());
  });

  it('every named export of node-cron exists', async () => {
    const theirs = await import('node-cron');
    for (const name of Object.keys(theirs)) expect(named, name).toHaveProperty(name === 'default' ? 'default' : name);
  });

  it('the built package works with require() and import (run npm run build first)', () => {
    const script = `
      const cron = require('fleetcron');
      const esm = import('fleetcron').then((m) => {
        const t = m.default.createTask('* * * * *', () => 1);
        console.log(typeof cron.schedule, typeof cron.default.schedule, typeof m.default.schedule, typeof m.schedule, t.getStatus());
        t.destroy();
      });`;
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim();
    expect(out).toBe('function function function function stopped');
  });
});
