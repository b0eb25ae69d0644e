import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A public function of ours; the caller of its outermost call is the file a relative path is relative to. */
export type Boundary = (...args: never[]) => unknown;

const URL_SCHEME = /^[a-z][a-z\d+.-]+:/i;

/**
 * The file URL of a background task file: an absolute path, a `file:` URL (string or URL object), or a path
 * relative to the directory of the file that called `boundary`. Called from no file at all (`node -e`, a REPL),
 * a relative path is relative to the working directory.
 */
export function resolveTaskFile(file: string | URL, boundary: Boundary): string {
  if (file instanceof URL) return fileUrl(file.href);
  if (file.length === 0) throw new TypeError('fleetcron: the task file path is empty');
  if (isAbsolute(file)) return pathToFileURL(file).href;
  if (URL_SCHEME.test(file)) return fileUrl(file);
  return pathToFileURL(resolve(callerDirectory(boundary) ?? process.cwd(), file)).href;
}

/** node-cron's export: resolves `filePath` against the file that calls it, or the working directory when no file does. */
export function solvePath(filePath: string): string {
  return resolveTaskFile(filePath, solvePath);
}

function fileUrl(href: string): string {
  const url = new URL(href);
  if (url.protocol !== 'file:') throw new TypeError(`fleetcron: a task file must be a path or a file: URL (got '${href}')`);
  return url.href;
}

/**
 * Reads the call sites V8 records, not the text of a stack trace: file names may be URLs (ESM) or paths (CJS),
 * and someone else's `Error.prepareStackTrace` (source maps) may have rewritten the text.
 */
function callerDirectory(boundary: Boundary): string | undefined {
  const { prepareStackTrace, stackTraceLimit } = Error;
  const holder: { stack?: unknown } = {};
  let stack: unknown;
  try {
    Error.stackTraceLimit = 10;
    Error.prepareStackTrace = (_error, frames) => frames;
    Error.captureStackTrace(holder, boundary);
    // The stack is formatted when first read, with the prepareStackTrace of that moment.
    stack = holder.stack;
  } finally {
    Error.prepareStackTrace = prepareStackTrace;
    Error.stackTraceLimit = stackTraceLimit;
  }
  const frames = Array.isArray(stack) ? (stack as NodeJS.CallSite[]) : [];
  for (const frame of frames) {
    const name = frame.getFileName();
    if (name?.startsWith('file:')) return dirname(fileURLToPath(name));
    if (name && isAbsolute(name)) return dirname(name);
  }
  return undefined;
}
