import type { Logger } from './types.js';

type Level = 'INFO' | 'WARN' | 'ERROR' | 'DEBUG';

const COLORS: Record<Level, string> = { INFO: '\x1b[36m', WARN: '\x1b[33m', ERROR: '\x1b[31m', DEBUG: '\x1b[35m' };
const GREEN = '\x1b[32m';
const RESET = '\x1b[0m';

function write(level: Level, message: string | Error, extra?: unknown): void {
  const text = message instanceof Error ? message.message : message;
  const detail = message instanceof Error ? message : extra;
  const line = `[${new Date().toISOString()}] [PID: ${process.pid}] ${GREEN}[FLEETCRON]${RESET} ${COLORS[level]}[${level}]${RESET} ${text}`;
  if (level === 'ERROR') console.error(line, detail ?? '');
  else if (level === 'DEBUG') console.debug(line, detail ?? '');
  else if (level === 'WARN') console.warn(line);
  else console.info(line);
}

export const defaultLogger: Logger = {
  info: (message) => write('INFO', message),
  warn: (message) => write('WARN', message),
  error: (message, err) => write('ERROR', message, err),
  debug: (message, err) => write('DEBUG', message, err),
};

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };

let active: Logger = defaultLogger;

/** Sets the process-wide logger; `null`/`undefined` restores the default (as node-cron). */
export function setLogger(logger: Logger | null | undefined): void {
  active = logger ?? defaultLogger;
}

/** Always delegates to the logger active at call time, so `setLogger` affects existing tasks. */
export const globalLogger: Logger = {
  info: (message) => active.info(message),
  warn: (message) => active.warn(message),
  error: (message, err) => active.error(message, err),
  debug: (message, err) => active.debug(message, err),
};
