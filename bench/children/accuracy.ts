// One every-second task for `seconds` fires, idle or under a busy event loop: lateness of each fire (task function
// start minus the planned second), and which planned seconds ran zero or several times.
import { DEFAULT_LOAD, startBusyLoop } from '../lib/busy-loop.js';
import { finish, params } from '../lib/child-io.js';
import { untilSecondPhase, untilWall, wallNow } from '../lib/clock.js';
import { loadScheduler, type LibraryName } from '../lib/libraries.js';
import { summarize, type Summary } from '../lib/stats.js';

export interface AccuracyParams {
  library: LibraryName;
  busy: boolean;
  seconds: number;
}

export interface AccuracyResult {
  lateness: Summary;
  missed: number;
  duplicates: number;
}

const { library, busy, seconds } = params<AccuracyParams>();
const cron = await loadScheduler(library);

// Start half-way through a second, so the first planned fire is the next whole second.
const start = await untilSecondPhase(500);
const first = start + 500;
const last = first + (seconds - 1) * 1000;
const stopLoad = busy ? startBusyLoop(DEFAULT_LOAD) : () => undefined;
const runs = new Map<number, number>();
const lateness: number[] = [];
const task = cron.schedule('* * * * * *', ({ date }) => {
  const slot = date.getTime();
  lateness.push(wallNow() - slot);
  runs.set(slot, (runs.get(slot) ?? 0) + 1);
});
await untilWall(last + 500);
await task.destroy();
stopLoad();

let missed = 0;
let duplicates = 0;
for (let slot = first; slot <= last; slot += 1000) {
  const count = runs.get(slot) ?? 0;
  if (count === 0) missed++;
  else duplicates += count - 1;
}
finish({ lateness: summarize(lateness), missed, duplicates } satisfies AccuracyResult);
