/**
 * Runs a coordinator call that may be synchronous, asynchronous, throwing or hung, and settles within
 * `timeoutMs`: a throw becomes a rejection, silence becomes a timeout error (after `onTimeout`). The timer never
 * keeps the process alive.
 */
export function callBounded<T>(call: () => T | Promise<T>, timeoutMs: number, what: string, onTimeout?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`${what} did not settle within ${timeoutMs} ms`));
    }, timeoutMs);
    timer.unref();
    const settle = <V>(fn: (value: V) => void) => (value: V) => {
      clearTimeout(timer);
      fn(value);
    };
    try {
      Promise.resolve(call()).then(settle(resolve), settle(reject));
    } catch (error) {
      settle(reject)(error);
    }
  });
}
