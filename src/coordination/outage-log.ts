import type { Logger } from '../types.js';

/** Different causes logged in one outage at most; a coordinator that fails a new way every fire is no log flood. */
const MAX_CAUSES = 8;

/** How one kind of call is reported: "fire … was not run: its coordinator failed: …; fires are skipped …". */
export interface OutageWording {
  /** Who fails ("its coordinator", "the upstream coordinator"). */
  readonly what: string;
  /** What became of the fire ("was not run"). */
  readonly outcome: string;
  /** What happens while it fails ("fires are skipped (coordinator-error) until it answers"). */
  readonly meanwhile: string;
  /** What became of the fires counted ("were skipped (coordinator-error)"). */
  readonly counted: string;
}

export const ELECTIONS = (what: string): OutageWording => ({
  what,
  outcome: 'was not run',
  meanwhile: 'fires are skipped (coordinator-error) until it answers',
  counted: 'were skipped (coordinator-error)',
});

export const COMPLETIONS: OutageWording = {
  what: "its coordinator's onComplete",
  outcome: 'was not completed',
  meanwhile: 'logged once until it succeeds again',
  counted: 'were not completed',
};

/**
 * One loud line per coordination outage, not one per fire: the first fire it fails is logged with the cause on one
 * line (a new cause once more, when it changes); the fires it fails meanwhile are counted, and the first call that
 * succeeds again ends the outage with one line saying how many.
 */
export class OutageLog {
  private failures = 0;
  private readonly causes = new Set<string>();

  /** `who` starts each line ("fleetcron", `task "backup"`). */
  constructor(
    private readonly logger: Logger,
    private readonly who: string,
    private readonly wording: OutageWording,
  ) {}

  /** The call for the fire `label` failed with `error`. */
  failed(label: string, error: unknown): void {
    this.failures++;
    const cause = oneLine(error);
    // A cause that names its fire ("shouldRun(backup:…) did not settle") is the same cause at the next fire.
    const same = cause.split(label).join('…');
    if (this.causes.has(same) || this.causes.size >= MAX_CAUSES) return;
    this.causes.add(same);
    const { what, outcome, meanwhile } = this.wording;
    this.logger.error(`${this.who}: fire ${label} ${outcome}: ${what} failed: ${cause}; ${meanwhile}`);
  }

  /** A call succeeded: the outage, if there was one, is over. */
  succeeded(): void {
    if (this.failures === 0) return;
    const { what, counted } = this.wording;
    this.logger.info(`${this.who}: ${what} answers again; ${this.failures} fire(s) ${counted} meanwhile`);
    this.failures = 0;
    this.causes.clear();
  }
}

/** An error's message on one line: stack traces and multi-line messages are for debugging, not for every fire. */
function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s*\n\s*/g, ' ').trim() || (error instanceof Error ? error.name : 'unknown error');
}
