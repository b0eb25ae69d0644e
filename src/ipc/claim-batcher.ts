import type { ClaimAnswer, ClaimRequest, FireBackend } from '../coordination/records/backend.js';

interface Queued {
  request: ClaimRequest;
  resolve(answer: ClaimAnswer): void;
  reject(error: unknown): void;
}

/** A batch never grows past this: one backend call stays bounded in size and time. */
const MAX_BATCH = 500;

/**
 * Gathers the claims asked in one turn of the event loop into one backend call, so the fires of a host due at
 * the same instant (every worker's requests arrive in the same I/O phase) cost one round trip, not one each. A
 * claim waits for nothing but the end of the current turn.
 */
export class ClaimBatcher {
  private queue: Queued[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly backend: FireBackend) {}

  claim(request: ClaimRequest): Promise<ClaimAnswer> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      if (this.queue.length >= MAX_BATCH) this.flush();
      else this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const answered = (answers: ClaimAnswer[]) => {
      batch.forEach((queued, i) => {
        const answer = answers[i];
        if (answer) queued.resolve(answer);
        else queued.reject(new Error(`the backend answered ${answers.length} of ${batch.length} claims`));
      });
    };
    Promise.resolve()
      .then(() => this.backend.claim(batch.map((queued) => queued.request)))
      .then(answered, (error: unknown) => batch.forEach((queued) => queued.reject(error)));
  }
}
