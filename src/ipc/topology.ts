import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeCluster } from '../builtins.js';

/** Set by an authority for the processes it starts: `${kind}:${pid}`. */
export const AUTHORITY_MARKER = 'FLEETCRON_AUTHORITY';
/** Explicit choice, overriding detection: `standalone` or `parent`. */
export const TOPOLOGY_OVERRIDE = 'FLEETCRON_TOPOLOGY';

export type Topology =
  | { kind: 'standalone' }
  | { kind: 'parent'; via: 'marker' | 'pm2' | 'cluster' | 'explicit'; verified: boolean; missing: string };

export interface ProcessFacts {
  env: NodeJS.ProcessEnv;
  ppid: number;
  hasIpc: boolean;
  isClusterWorker: boolean;
  readPm2Pid(pm2Home: string): number | undefined;
}

const MISSING_SERVE_CLUSTER = "call serveCluster() from 'fleetcron' in the node:cluster primary";
const MISSING_ARBITER = "add the fleetcron arbiter to the PM2 ecosystem (script: require.resolve('fleetcron/pm2-arbiter'), exec_mode: 'fork', instances: 1)";

/**
 * Where this process's elections go. In order: an explicit override; a marker left by our own authority, accepted
 * only when it names the direct parent; a PM2 instance (its parent is the PM2 daemon); a node:cluster worker;
 * else standalone. Test runners fork children too, so an IPC channel alone never makes a parent an authority.
 */
export function detectTopology(facts: ProcessFacts = currentProcess()): Topology {
  const { env } = facts;
  const override = env[TOPOLOGY_OVERRIDE];
  if (override === 'standalone') return { kind: 'standalone' };
  if (override === 'parent' && facts.hasIpc) return { kind: 'parent', via: 'explicit', verified: true, missing: 'make the parent process serve elections' };
  if (!facts.hasIpc) return { kind: 'standalone' };
  const marker = /^(cluster|parent):(\d+)$/.exec(env[AUTHORITY_MARKER] ?? '');
  // A child_process.fork() helper of a primary inherits the primary's cluster marker, but only cluster workers are served.
  if (marker && Number(marker[2]) === facts.ppid && (marker[1] !== 'cluster' || facts.isClusterWorker)) {
    return { kind: 'parent', via: 'marker', verified: true, missing: marker[1] === 'cluster' ? MISSING_SERVE_CLUSTER : 'the parent process stopped serving elections' };
  }
  if (env.pm_id !== undefined && isPm2Instance(facts)) return { kind: 'parent', via: 'pm2', verified: false, missing: MISSING_ARBITER };
  if (facts.isClusterWorker) return { kind: 'parent', via: 'cluster', verified: false, missing: MISSING_SERVE_CLUSTER };
  return { kind: 'standalone' };
}

function isPm2Instance(facts: ProcessFacts): boolean {
  const pm2Home = facts.env.PM2_HOME;
  const godPid = pm2Home ? facts.readPm2Pid(pm2Home) : undefined;
  if (godPid !== undefined) return godPid === facts.ppid;
  // Without a readable pid file: a PM2 cluster instance is a cluster worker of the PM2 daemon.
  return facts.env.exec_mode === 'cluster_mode' && facts.isClusterWorker;
}

export function currentProcess(): ProcessFacts {
  return {
    env: process.env,
    ppid: process.ppid,
    hasIpc: typeof process.send === 'function',
    isClusterWorker: nodeCluster().isWorker,
    readPm2Pid(pm2Home) {
      try {
        const pid = Number(readFileSync(join(pm2Home, 'pm2.pid'), 'utf8').trim());
        return Number.isInteger(pid) ? pid : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
