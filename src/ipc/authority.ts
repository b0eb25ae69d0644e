import { randomUUID } from 'node:crypto';
import { ClaimTable } from '../coordination/claim-table.js';
import { complete, elect, type Election as Outcome } from '../coordination/election.js';
import { EnvVarRunCoordinator } from '../coordination/env-var.js';
import { MemoryRunCoordinator } from '../coordination/memory.js';
import { silentLogger } from '../logger.js';
import type { RunCoordinator } from '../types.js';
import { parseRequest, PROTOCOL, VERSION, type Election, type ErrorCode, type Reply } from './protocol.js';

export interface AuthorityOptions {
  /** Where the host's winner is confirmed (Redis, env-var runner, …); none means host-local election. */
  upstream?: RunCoordinator;
  /** Bound on each upstream call. */
  electionTimeoutMs?: number;
  now?: () => number;
}

/** What one requester is told about one fire. */
type Verdict = { elected: boolean } | { error: string };

const DEFAULT_ELECTION_TIMEOUT_MS = 5000;

/**
 * Decides elections for every process that asks it — the workers of a host, a daemon's parent — whatever the
 * transport. The first request for a fire wins the host-local claim and only that one goes upstream, so N workers
 * cost one upstream call per fire; the others learn the outcome of that call. A claim outlives its run.
 * Upstream failures are not logged here but sent, with their cause, to each requester, which logs its skipped fire
 * once: one line per task and fire, wherever the task lives.
 */
export class Authority {
  readonly id = randomUUID();
  private readonly startedAt: number;
  private readonly claims = new ClaimTable<Promise<Outcome>>();
  private readonly now: () => number;
  /** Without a shared upstream, a fire planned before this authority existed may already have a winner. */
  private readonly remembersNothing: boolean;

  constructor(private readonly options: AuthorityOptions) {
    this.now = options.now ?? (() => Date.now());
    this.startedAt = this.now();
    const { upstream } = options;
    this.remembersNothing = !upstream || upstream instanceof EnvVarRunCoordinator || upstream instanceof MemoryRunCoordinator;
  }

  /** Answers one request (the `data` of a fleetcron message); undefined when there is nobody to answer. */
  async handle(data: Record<string, unknown>, scope = ''): Promise<Reply | undefined> {
    const id = typeof data.id === 'string' ? data.id : undefined;
    const parsed = parseRequest(data);
    if (!parsed.ok) return id === undefined ? undefined : this.reply(id, { code: parsed.code, message: parsed.message });
    const request = parsed.value;
    switch (request.kind) {
      case 'hello':
        return this.reply(request.id);
      case 'complete': {
        const failure = await this.complete(request, scope);
        return failure === undefined ? this.reply(request.id) : this.reply(request.id, { code: 'coordinator-error', message: `the upstream onComplete failed: ${describe(failure)}` });
      }
      case 'elect': {
        const verdict = await this.elect(request, scope);
        if ('error' in verdict) return this.reply(request.id, { code: 'coordinator-error', message: verdict.error });
        const reply = this.reply(request.id, undefined, verdict.elected);
        // Spares the winner a round trip per fire when nobody upstream listens for completion.
        if (verdict.elected && this.options.upstream?.onComplete) reply.complete = true;
        return reply;
      }
    }
  }

  /** Elects for a request from this very process (tasks living beside the authority). */
  elect({ key, ttlMs, slot }: Election, scope = ''): Promise<Verdict> {
    const now = this.now();
    if (this.remembersNothing && slot !== undefined && slot < this.startedAt) {
      return Promise.resolve({
        error: `fire ${key} was planned before this authority started (${new Date(this.startedAt).toISOString()}); a previous authority may have elected it`,
      });
    }
    const claimKey = scope ? `${scope}\n${key}` : key;
    const claim = this.claims.claim(claimKey, ttlMs, now, () => this.upstreamElection(scope ? `${scope}:${key}` : key, ttlMs));
    if (claim.won) return claim.value.then(toVerdict);
    // Lost the host-local claim: not elected, unless the winner could not be confirmed either.
    return claim.value.then((election) => (isError(election) ? toVerdict(election) : { elected: false }));
  }

  /** Passes a fire's completion upstream; resolves with the upstream's error, if it failed. */
  async complete({ key }: { key: string }, scope = ''): Promise<unknown> {
    const { upstream } = this.options;
    if (!upstream) return undefined;
    return complete(upstream, scope ? `${scope}:${key}` : key, this.timeout(), silentLogger);
  }

  private upstreamElection(key: string, ttlMs: number): Promise<Outcome> {
    const { upstream } = this.options;
    if (!upstream) return Promise.resolve({ elected: true });
    return elect(upstream, key, ttlMs, this.timeout(), silentLogger);
  }

  private timeout(): number {
    return this.options.electionTimeoutMs ?? DEFAULT_ELECTION_TIMEOUT_MS;
  }

  private reply(id: string, error?: { code: ErrorCode; message: string }, elected?: boolean): Reply {
    const reply: Reply = { proto: PROTOCOL, v: VERSION, kind: 'reply', id, ok: error === undefined, authority: { id: this.id, pid: process.pid } };
    if (elected !== undefined) reply.elected = elected;
    if (error) reply.error = error;
    return reply;
  }
}

function isError(election: Outcome): election is Extract<Outcome, { reason: 'coordinator-error' }> {
  return !election.elected && election.reason === 'coordinator-error';
}

function toVerdict(election: Outcome): Verdict {
  if (isError(election)) return { error: `the upstream coordinator failed: ${describe(election.error)}` };
  return { elected: election.elected };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
