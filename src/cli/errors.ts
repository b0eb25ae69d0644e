/** The exit codes of the fleetcron command: 1 is left for what nobody foresaw (a bug, a backend error mid-call). */
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;

/** An error the command reports as one line, without a stack, and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** `url` without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}
