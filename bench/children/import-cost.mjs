// Plain node, no TypeScript loader (it would hook every resolution and be measured too): loads one library the way
// an app does, as the first thing this fresh process does, then schedules one task with it. Prints the two times
// (milliseconds) as JSON. argv: <library> <require|import> <fleetcron's dist/ directory>
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [library, how, dist] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const target = library === 'fleetcron' ? join(dist, how === 'require' ? 'index.cjs' : 'index.js') : library;
const load = (name) => (how === 'require' ? require(name) : import(library === 'fleetcron' ? pathToFileURL(name).href : name));

/** One task (or one parsed expression, for cron-parser, which schedules nothing), stopped at once. */
const firstUse = {
  'cron-parser': (m) => void (m.CronExpressionParser ?? m.default.CronExpressionParser).parse('*/5 * * * *').next(),
  'node-cron': (m) => (m.default ?? m).schedule('*/5 * * * *', () => undefined).destroy(),
  croner: (m) => new m.Cron('*/5 * * * *', () => undefined).stop(),
  fleetcron: (m) => (m.default ?? m).schedule('*/5 * * * *', () => undefined).destroy(),
};

const began = performance.now();
const loaded = await load(target);
const importMs = performance.now() - began;
firstUse[library](loaded);
const firstTaskMs = performance.now() - began;
console.log(JSON.stringify({ importMs, firstTaskMs }));
