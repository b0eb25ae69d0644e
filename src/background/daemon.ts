// The background daemon: forked by a process that schedules task files, it hosts them for as long as that
// process keeps its IPC channel open, and not a moment longer.
import type { ParentEnd } from '../ipc/transports/child.js';
import { hostTasks } from './daemon-host.js';
import { toThrown } from './error-wire.js';
import { daemonMessage } from './wire.js';

const send = process.send?.bind(process);
if (!send) {
  console.error('fleetcron daemon: this file is started by fleetcron, with an IPC channel to the process that schedules the tasks');
  process.exit(1);
}

process.on('disconnect', () => process.exit(0));
// A parent that died while this process booted closed the channel before the listener above existed.
if (!process.connected) process.exit(0);
// Ctrl-C signals the whole process group; the parent decides when its tasks stop, so its shutdown can let runs end.
process.on('SIGINT', () => undefined);
process.on('uncaughtExceptionMonitor', (error) => {
  // Fatal only when no task file handles it; the parent learns why the daemon is about to die.
  if (process.listenerCount('uncaughtException') === 0) send(daemonMessage({ op: 'fatal', error: toThrown(error) }), () => undefined);
});

const parent: ParentEnd = {
  send: (message, callback) => send(message, callback),
  on: (event, listener) => process.on(event, listener),
  once: (event, listener) => process.once(event, listener),
};
hostTasks(parent);
