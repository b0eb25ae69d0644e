// A background task file: fleetcron runs its exported `task` in a daemon process, off the app's event loop.
import type { TaskContext } from 'fleetcron';

export async function task(context: TaskContext): Promise<{ fire: Date; primes: number; daemon: number }> {
  // Something worth keeping off the app's event loop.
  let primes = 0;
  for (let n = 2; n < 200_000; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) { prime = false; break; }
    if (prime) primes++;
  }
  return { fire: context.date, primes, daemon: process.pid };
}
