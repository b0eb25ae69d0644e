import { processWide } from './process-state.js';
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

const current = processWide('logger', () => ({ logger: defaultLogger }));

/** Sets the process-wide logger; `null`/`undefined` restores the default (as node-cron). */
export function setLogger(logger: Logger | null | undefined): void {
  current.logger = logger ?? defaultLogger;
}

/** Always delegates to the logger active at call time, so `setLogger` affects existing tasks. */
export const globalLogger: Logger = {
  info: (message) => current.logger.info(message),
  warn: (message) => current.logger.warn(message),
  error: (message, err) => current.logger.error(message, err),
  debug: (message, err) => current.logger.debug(message, err),
};
