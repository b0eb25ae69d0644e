/**
 * Thrown values across the daemon channel. The channel's structured clone keeps an Error's message and stack but
 * drops `code`, every other own property and any custom `name`, so errors travel as plain records instead.
 */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  /** Own properties besides name, message, stack and cause (`code`, `errno`, …). */
  props: Record<string, unknown>;
  cause?: Thrown;
}

/** Whatever was thrown: an error, or any other value (a string, an object) as it was. */
export type Thrown = { error: WireError } | { value: unknown };

const BUILT_IN: Record<string, ErrorConstructor> = {
  Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError,
};

const OWN_FIELDS = new Set(['name', 'message', 'stack', 'cause']);

export function toThrown(value: unknown): Thrown {
  return value instanceof Error ? { error: toWireError(value) } : { value: cloneable(value) };
}

export function fromThrown(thrown: Thrown): unknown {
  return 'error' in thrown ? fromWireError(thrown.error) : thrown.value;
}

function toWireError(error: Error): WireError {
  const record = error as unknown as Record<string, unknown>;
  const props: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(error)) {
    if (!OWN_FIELDS.has(key)) props[key] = cloneable(record[key]);
  }
  const wire: WireError = { name: String(error.name), message: String(error.message), props };
  if (typeof error.stack === 'string') wire.stack = error.stack;
  if ('cause' in error) wire.cause = toThrown(error.cause);
  return wire;
}

function fromWireError(wire: WireError): Error {
  const Constructor = BUILT_IN[wire.name] ?? Error;
  const error = new Constructor(wire.message);
  // A custom class cannot be rebuilt here; its name at least survives, as an own property like a class field.
  if (error.name !== wire.name) define(error, 'name', wire.name);
  define(error, 'stack', wire.stack);
  Object.assign(error, wire.props);
  if (wire.cause) define(error, 'cause', fromThrown(wire.cause));
  return error;
}

function define(error: Error, key: string, value: unknown): void {
  Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: false });
}

/** The value itself when the channel can carry it, else its description (a socket on an error, a function). */
function cloneable(value: unknown): unknown {
  try {
    structuredClone(value);
    return value;
  } catch {
    return String(value);
  }
}
