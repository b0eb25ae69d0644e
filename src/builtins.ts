import type * as ChildProcesses from 'node:child_process';
import type { Cluster } from 'node:cluster';
import type * as Crypto from 'node:crypto';
import { createRequire } from 'node:module';

// node:cluster and node:child_process (with node:net below it) take some 4 ms each to load, node:crypto 2 ms, as
// much as the rest of fleetcron's own code: each is loaded when first needed — cluster and child processes by a
// distributed or background task, crypto by the first id — so importing fleetcron costs little more than its
// cron-parser, and an app with in-process tasks only never loads the first two.

/** Loads one of node's own modules; the require is made on first use (making one costs a third of a millisecond). */
let load: NodeJS.Require | undefined;
function builtin<T>(name: string): T {
  load ??= createRequire(import.meta.url);
  return load(name) as T;
}

let clusterModule: Cluster | undefined;
let childProcessModule: typeof ChildProcesses | undefined;
let cryptoModule: typeof Crypto | undefined;

export function nodeCluster(): Cluster {
  return (clusterModule ??= builtin<Cluster>('node:cluster'));
}

export function childProcesses(): typeof ChildProcesses {
  return (childProcessModule ??= builtin<typeof ChildProcesses>('node:child_process'));
}

function nodeCrypto(): typeof Crypto {
  return (cryptoModule ??= builtin<typeof Crypto>('node:crypto'));
}

export function randomUUID(): string {
  return nodeCrypto().randomUUID();
}

export function randomBytes(size: number): Buffer {
  return nodeCrypto().randomBytes(size);
}

let host: string | undefined;

/** This machine's name, read once (each read is a system call). */
export function hostName(): string {
  return (host ??= builtin<typeof import('node:os')>('node:os').hostname());
}
