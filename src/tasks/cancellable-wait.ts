/** A sleep that `cancel()` ends early with `false`; `true` when the full time passed. */
export class CancellableWait {
  readonly done: Promise<boolean>;
  private readonly timer: NodeJS.Timeout;
  private settle!: (completed: boolean) => void;

  constructor(ms: number, ref: boolean) {
    this.done = new Promise((resolve) => (this.settle = resolve));
    this.timer = setTimeout(() => this.settle(true), ms);
    if (!ref) this.timer.unref();
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.settle(false);
  }

  setRef(ref: boolean): void {
    if (ref) this.timer.ref();
    else this.timer.unref();
  }
}
