import type { TaskContext, TaskEvent, TaskListener } from '../types.js';

interface Registration {
  listener: TaskListener;
  once: boolean;
}

/**
 * Per-task events. A listener's throw or rejection goes to `onError`, never to the emitter; `once` listeners are
 * removed before they run (node-cron 4.6 kept calling them). Events emitted with `emitLater` are delivered on
 * the next microtask, and any event emitted while one is waiting queues behind it, so order is kept.
 */
export class TaskEmitter {
  private listeners: Map<TaskEvent, Registration[]> | undefined;
  private backlog: Array<[TaskEvent, TaskContext]> | undefined;

  constructor(private readonly onError: (error: unknown) => void) {}

  on(event: TaskEvent, listener: TaskListener): void {
    this.add(event, listener, false);
  }

  once(event: TaskEvent, listener: TaskListener): void {
    this.add(event, listener, true);
  }

  off(event: TaskEvent, listener: TaskListener): void {
    const list = this.listeners?.get(event);
    if (!list) return;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i]!.listener === listener) {
        list.splice(i, 1);
        return;
      }
    }
  }

  listenerCount(event: TaskEvent): number {
    return this.listeners?.get(event)?.length ?? 0;
  }

  /** Whether an event emitted now reaches anyone: a listener, or a backlog that listeners may still join. */
  wants(event: TaskEvent): boolean {
    return this.backlog !== undefined || this.listenerCount(event) > 0;
  }

  emit(event: TaskEvent, context: TaskContext): void {
    if (this.backlog) this.backlog.push([event, context]);
    else this.deliver(event, context);
  }

  emitLater(event: TaskEvent, context: TaskContext): void {
    if (this.backlog) {
      this.backlog.push([event, context]);
      return;
    }
    this.backlog = [[event, context]];
    queueMicrotask(() => {
      // Events emitted by listeners during the flush join the backlog, behind what was already waiting.
      // By index: shift() would make a long backlog (many stop()/start() in one tick) quadratic.
      const backlog = this.backlog!;
      for (let i = 0; i < backlog.length; i++) this.deliver(backlog[i]![0], backlog[i]![1]);
      this.backlog = undefined;
    });
  }

  private add(event: TaskEvent, listener: TaskListener, once: boolean): void {
    this.listeners ??= new Map();
    const list = this.listeners.get(event);
    if (list) list.push({ listener, once });
    else this.listeners.set(event, [{ listener, once }]);
  }

  private deliver(event: TaskEvent, context: TaskContext): void {
    const list = this.listeners?.get(event);
    if (!list || list.length === 0) return;
    for (const registration of [...list]) {
      if (registration.once) {
        const index = list.indexOf(registration);
        if (index === -1) continue;
        list.splice(index, 1);
      }
      try {
        const result = registration.listener(context);
        if (result instanceof Promise) result.catch(this.onError);
      } catch (error) {
        this.onError(error);
      }
    }
  }
}
