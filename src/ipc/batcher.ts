interface Queued<Q, A> {
  item: Q;
  resolve(answer: A): void;
  reject(error: unknown): void;
}

/** A batch never grows past this by default: one backend call stays bounded in size and time. */
const DEFAULT_MAX_BATCH = 500;

/**
 * Gathers the calls made in one turn of the event loop into one backend call, so the fires of a host due at the
 * same instant (every worker's requests arrive in the same I/O phase) cost one round trip, not one each. A call
 * waits for nothing but the end of the current turn. `send` answers a batch in its order.
 */
export class Batcher<Q, A> {
  private queue: Array<Queued<Q, A>> = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(
    private readonly send: (batch: Q[]) => Promise<A[]>,
    private readonly maxBatch = DEFAULT_MAX_BATCH,
  ) {}

  add(item: Q): Promise<A> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const answered = (answers: A[]) => {
      batch.forEach((queued, i) => {
        if (i < answers.length) queued.resolve(answers[i]!);
        else queued.reject(new Error(`the backend answered ${answers.length} of ${batch.length} calls of a batch`));
      });
    };
    Promise.resolve()
      .then(() => this.send(batch.map((queued) => queued.item)))
      .then(answered, (error: unknown) => batch.forEach((queued) => queued.reject(error)));
  }
}
