import { describe, expect, it } from 'vitest';
import { detectTopology, type ProcessFacts } from '../../src/ipc/topology.js';

const facts = (overrides: Partial<ProcessFacts> & { env?: NodeJS.ProcessEnv } = {}): ProcessFacts => ({
  env: {},
  ppid: 100,
  hasIpc: true,
  isClusterWorker: false,
  readPm2Pid: () => undefined,
  ...overrides,
});

describe('detectTopology', () => {
  it('is standalone without an IPC channel, whatever the environment says', () => {
    expect(detectTopology(facts({ hasIpc: false, env: { FLEETCRON_AUTHORITY: 'cluster:100', pm_id: '0' } }))).toEqual({ kind: 'standalone' });
  });

  it('never treats an unknown IPC parent (a test runner) as an authority', () => {
    expect(detectTopology(facts())).toEqual({ kind: 'standalone' });
  });

  it('trusts a marker only when it names the direct parent', () => {
    expect(detectTopology(facts({ env: { FLEETCRON_AUTHORITY: 'cluster:100' }, isClusterWorker: true }))).toMatchObject({ kind: 'parent', via: 'marker', verified: true });
    expect(detectTopology(facts({ env: { FLEETCRON_AUTHORITY: 'parent:100' } }))).toMatchObject({ kind: 'parent', via: 'marker' });
    // Inherited from a grandparent: ignored.
    expect(detectTopology(facts({ env: { FLEETCRON_AUTHORITY: 'cluster:7' } }))).toEqual({ kind: 'standalone' });
  });

  it("ignores a primary's cluster marker in a child_process.fork() helper of that primary: only cluster workers are served", () => {
    expect(detectTopology(facts({ env: { FLEETCRON_AUTHORITY: 'cluster:100' }, isClusterWorker: false }))).toEqual({ kind: 'standalone' });
  });

  it('recognises a PM2 instance by its parent being the PM2 daemon', () => {
    const pm2 = { env: { pm_id: '2', PM2_HOME: '/tmp/pm2x', exec_mode: 'cluster_mode' }, isClusterWorker: true };
    expect(detectTopology(facts({ ...pm2, readPm2Pid: () => 100 }))).toMatchObject({ kind: 'parent', via: 'pm2', verified: false });
    // A user's own cluster worker inside a PM2 fork-mode app inherits pm_id but its parent is not PM2.
    expect(detectTopology(facts({ ...pm2, readPm2Pid: () => 55 }))).toMatchObject({ kind: 'parent', via: 'cluster' });
  });

  it('sends an unmarked node:cluster worker to its primary, unverified until it answers', () => {
    const topology = detectTopology(facts({ isClusterWorker: true }));
    expect(topology).toMatchObject({ kind: 'parent', via: 'cluster', verified: false });
    expect(topology.kind === 'parent' && topology.missing).toMatch(/serveCluster\(\)/);
  });

  it('lets an explicit override win', () => {
    expect(detectTopology(facts({ isClusterWorker: true, env: { FLEETCRON_TOPOLOGY: 'standalone' } }))).toEqual({ kind: 'standalone' });
    expect(detectTopology(facts({ env: { FLEETCRON_TOPOLOGY: 'parent' } }))).toMatchObject({ kind: 'parent', via: 'explicit', verified: true });
  });
});
