import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fromThrown, toThrown } from '../../src/background/error-wire.js';
import { daemonExecArgv } from '../../src/background/daemon-exec-argv.js';
import { loadTaskFunction } from '../../src/background/load-task.js';
import { resolveTaskFile, solvePath } from '../../src/background/solve-path.js';
import { daemonMessage, openCommand, openNotice } from '../../src/background/wire.js';

const tasks = new URL('../fixtures/background/tasks/', import.meta.url);

/** What crosses the daemon channel: a structured clone. */
const overTheChannel = <T>(value: T): T => structuredClone(value);

describe('errors across the daemon channel', () => {
  it('keep a built-in class, message, stack, code, other own properties and a cause chain', () => {
    const cause = Object.assign(new RangeError('inner'), { code: 'E_INNER' });
    const error = Object.assign(new TypeError('outer', { cause }), { code: 'E_OUTER', when: new Date(5), detail: { n: 1 } });
    const back = fromThrown(overTheChannel(toThrown(error))) as TypeError & Record<string, unknown>;
    expect(back).toBeInstanceOf(TypeError);
    expect(back).toMatchObject({ message: 'outer', code: 'E_OUTER', detail: { n: 1 } });
    expect(back.when).toEqual(new Date(5));
    expect(back.stack).toBe(error.stack);
    expect(back.cause).toBeInstanceOf(RangeError);
    expect(back.cause).toMatchObject({ message: 'inner', code: 'E_INNER' });
    expect(Object.keys(back).sort()).toEqual(['code', 'detail', 'when']);
  });

  it('keep the name of a custom class on an Error, and describe what cannot be cloned', () => {
    class QuotaError extends Error {
      override name = 'QuotaError';
      socket = { write: () => undefined };
    }
    const back = fromThrown(overTheChannel(toThrown(new QuotaError('over')))) as Error & Record<string, unknown>;
    expect(back).toBeInstanceOf(Error);
    expect(back.name).toBe('QuotaError');
    expect(String(back)).toBe('QuotaError: over');
    expect(back.socket).toBe('[object Object]');
  });

  it('keep thrown values that are not errors as they were', () => {
    expect(fromThrown(overTheChannel(toThrown('just a string')))).toBe('just a string');
    expect(fromThrown(overTheChannel(toThrown({ code: 42 })))).toEqual({ code: 42 });
  });
});

describe('daemon control messages', () => {
  it('are recognised by type, and anything else on the channel is ignored', () => {
    const load = { op: 'load', session: 's', file: 'file:///x.js', pattern: '* * * * *', options: { name: 'n' } } as const;
    expect(openCommand(daemonMessage(load))).toEqual(load);
    expect(openNotice(daemonMessage({ op: 'released', session: 's' }))).toEqual({ op: 'released', session: 's' });
    for (const foreign of [null, 'shutdown', { type: 'fleetcron:ipc', data: {} }, { type: 'fleetcron:daemon', body: { op: 'load', session: 's' } }, { type: 'fleetcron:daemon', body: { op: 'nope', session: 's' } }]) {
      expect(openCommand(foreign)).toBeUndefined();
      expect(openNotice(foreign)).toBeUndefined();
    }
    // A notice is not a command, nor the reverse.
    expect(openCommand(daemonMessage({ op: 'released', session: 's' }))).toBeUndefined();
    expect(openNotice(daemonMessage(load))).toBeUndefined();
  });
});

describe('task file paths', () => {
  function viaBoundary(file: string | URL): string {
    return resolveTaskFile(file, viaBoundary);
  }

  it('resolve relative paths against the file that called the boundary function', () => {
    expect(viaBoundary('./jobs/backup.js')).toBe(new URL('jobs/backup.js', import.meta.url).href);
    expect(viaBoundary('../x.mjs')).toBe(new URL('../x.mjs', import.meta.url).href);
    expect(solvePath('jobs/a.js')).toBe(new URL('jobs/a.js', import.meta.url).href);
  });

  it('take absolute paths and file URLs as they are, and refuse other URLs', () => {
    expect(viaBoundary('/srv/jobs/backup.js')).toBe('file:///srv/jobs/backup.js');
    expect(viaBoundary('file:///srv/jobs/a%20b.js')).toBe('file:///srv/jobs/a%20b.js');
    expect(viaBoundary(new URL('file:///srv/jobs/c.js'))).toBe('file:///srv/jobs/c.js');
    expect(() => viaBoundary('https://example.com/task.js')).toThrow(/must be a path or a file: URL/);
    expect(() => viaBoundary('')).toThrow(/empty/);
  });

  it('resolve against the working directory when no file called (node -e, a REPL)', () => {
    expect(resolveTaskFile('./t.js', function notOnTheStack() {})).toBe(pathToFileURL(`${process.cwd()}/t.js`).href);
  });
});

describe('loading a task file', () => {
  it('finds `task`, a default function, or either inside a CommonJS module', async () => {
    expect(await (await loadTaskFunction(new URL('default-export.mjs', tasks).href))({} as never)).toBe('from a default export');
    expect(await (await loadTaskFunction(new URL('commonjs.cjs', tasks).href))({} as never)).toBe('from CommonJS');
  });

  it('fails with the file named: missing, throwing on import, exporting no function', async () => {
    const path = (name: string) => new URL(name, tasks).pathname;
    await expect(loadTaskFunction(new URL('nope.mjs', tasks).href)).rejects.toThrow(`background task file ${path('nope.mjs')} does not exist`);
    await expect(loadTaskFunction(new URL('throws-on-import.mjs', tasks).href)).rejects.toThrow(`${path('throws-on-import.mjs')} failed to load: boom at import`);
    await expect(loadTaskFunction(new URL('no-export.mjs', tasks).href)).rejects.toThrow(`${path('no-export.mjs')} exports no task function`);
  });
});

describe('the Node options a daemon inherits', () => {
  it('are the parent’s, less those naming code to run instead of a file (code given with -e would run again in the daemon)', () => {
    const loader = ['--import=tsx', '--conditions', 'source', '--max-old-space-size=256'];
    expect(daemonExecArgv(loader)).toEqual(loader);
    for (const source of [
      ['-e', 'code'], ['--eval', 'code'], ['--eval=code'], ['-p', 'code'], ['--print', 'code'], ['--print=code'], ['-pe', 'code'],
      ['--input-type=module', '-e', 'code'], ['--input-type', 'module', '--eval', 'code'],
    ]) {
      expect(daemonExecArgv([loader[0]!, ...source, ...loader.slice(1)]), source.join(' ')).toEqual(loader);
    }
  });
});
