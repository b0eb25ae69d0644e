import type { Logger } from '../../src/types.js';

/** A logger that records what it is told, for tests that assert on warnings and errors. */
export function recordingLogger(): Logger & { lines: string[]; of(level: string): string[] } {
  const lines: string[] = [];
  const text = (message: unknown, err?: unknown) =>
    `${message instanceof Error ? message.message : String(message)}${err instanceof Error ? ` ${err.message}` : ''}`;
  return {
    lines,
    of: (level) => lines.filter((l) => l.startsWith(`${level} `)).map((l) => l.slice(level.length + 1)),
    info: (m) => void lines.push(`info ${text(m)}`),
    warn: (m) => void lines.push(`warn ${text(m)}`),
    error: (m, err) => void lines.push(`error ${text(m, err)}`),
    debug: (m, err) => void lines.push(`debug ${text(m, err)}`),
  };
}
