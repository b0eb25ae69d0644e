import { AuthorityClient } from '../ipc/client.js';
import { detectTopology } from '../ipc/topology.js';
import { ChildLink, type ParentEnd } from '../ipc/transports/child.js';
import { toThrown } from './error-wire.js';
import { HostedTask } from './hosted-task.js';
import { loadTaskFunction } from './load-task.js';
import { daemonMessage, openCommand, type Command, type Notice, type SessionId } from './wire.js';

/** Serves the parent's commands: loads task files, runs them as sessions, reports back. */
export function hostTasks(parent: ParentEnd): void {
  const host = new DaemonHost(parent);
  parent.on('message', (message) => {
    const command = openCommand(message);
    if (command) host.handle(command);
  });
}

class DaemonHost {
  private readonly sessions = new Map<SessionId, HostedTask>();
  /** Sessions being loaded, with whether the parent gave up on them meanwhile (a start timeout). */
  private readonly loading = new Map<SessionId, boolean>();
  private readonly link: ChildLink;
  private readonly topology = detectTopology();

  constructor(private readonly parent: ParentEnd) {
    this.link = new ChildLink(parent);
  }

  handle(command: Command): void {
    const { session } = command;
    switch (command.op) {
      case 'load':
        void this.load(command);
        return;
      case 'stop':
      case 'destroy':
        if (this.loading.has(session)) this.loading.set(session, true);
        else this.sessions.get(session)?.end(command.op);
        return;
      case 'execute': {
        const hosted = this.sessions.get(session);
        if (hosted) void hosted.execute(command.request);
        else this.notify({ op: 'executed', session, request: command.request, outcome: { error: toThrown(new Error('the task is not loaded in the daemon')) } });
      }
    }
  }

  private async load(command: Extract<Command, { op: 'load' }>): Promise<void> {
    const { session } = command;
    this.loading.set(session, false);
    try {
      const fn = await loadTaskFunction(command.file);
      if (this.loading.get(session)) {
        this.notify({ op: 'released', session });
        return;
      }
      const hosted = new HostedTask(session, command.pattern, fn, command.options, {
        notify: (notice) => this.notify(notice),
        release: (id) => {
          this.sessions.delete(id);
          this.notify({ op: 'released', session: id });
        },
        channel: (id) => this.link.channel(id),
        coordinator: (channel, logger, onNotice) => {
          const verified = this.topology.kind === 'parent' && this.topology.verified;
          const missing = this.topology.kind === 'parent' ? this.topology.missing : 'the daemon was not started by fleetcron';
          return new AuthorityClient(channel, { verified, missing, logger, onNotice });
        },
      });
      this.sessions.set(session, hosted);
      hosted.start();
    } catch (error) {
      this.notify({ op: 'load-failed', session, error: toThrown(error) });
    } finally {
      this.loading.delete(session);
    }
  }

  /**
   * Sends a notice. Only a run's result can fail to clone (a function, a symbol inside it): it is then sent as a
   * JSON copy, or left out, and the task's log says so once per run (with its `execution:finished` event).
   */
  private notify(notice: Notice): void {
    try {
      this.parent.send(daemonMessage(notice), ignore);
    } catch (error) {
      const substitute = (notice.op === 'event' || notice.op === 'executed') && withResult(notice, jsonCopy(resultOf(notice)));
      if (!substitute) throw error;
      this.parent.send(daemonMessage(substitute), ignore);
      if (substitute.op !== 'event') return;
      const warning = `the result of this run cannot be sent from the daemon (${(error as Error).message}); the parent gets a JSON copy of it`;
      this.parent.send(daemonMessage({ op: 'log', session: substitute.session, level: 'warn', message: { value: warning } }), ignore);
    }
  }
}

function ignore(): void {}

type CarriesResult = Extract<Notice, { op: 'event' | 'executed' }>;

function resultOf(notice: CarriesResult): unknown {
  if (notice.op === 'event') return notice.context.execution?.result;
  return 'result' in notice.outcome ? notice.outcome.result : undefined;
}

function withResult(notice: CarriesResult, result: unknown): CarriesResult | undefined {
  if (notice.op === 'event' && notice.context.execution && 'result' in notice.context.execution) {
    return { ...notice, context: { ...notice.context, execution: { ...notice.context.execution, result } } };
  }
  if (notice.op === 'executed' && 'result' in notice.outcome) return { ...notice, outcome: { result } };
  return undefined;
}

function jsonCopy(value: unknown): unknown {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
