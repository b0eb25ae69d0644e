import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixtures = new URL('../fixtures/background/dist/', import.meta.url);
const daemon = fileURLToPath(new URL('../../dist/daemon.js', import.meta.url));

interface Run {
  code: number | null;
  lines: Array<Record<string, unknown>>;
  output: string;
}

/**
 * Runs plain node (no loader, no source condition), so `fleetcron` is the built package, until it exits; `input`
 * is written to its stdin, which stays open. Killed after 20 s.
 */
function runNode(args: string[], { cwd, input }: { cwd?: string; input?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    if (input !== undefined) child.stdin.write(input);
    child.once('exit', (code) => {
      clearTimeout(timer);
      // A REPL prints its prompt in front of a line.
      const lines = [...stdout.matchAll(/^(?:> )*(\{"type".*\})$/gm)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);
      resolve({ code, lines, output: `${stdout}\n${stderr}` });
    });
  });
}

describe('the built package (run npm run build first) forks its daemon from dist', () => {
  for (const app of ['app.mjs', 'app.cjs']) {
    it(`${app.endsWith('.cjs') ? 'CommonJS' : 'ESM'}: resolves the task file against the app, runs it in dist/daemon.js, exits after shutdown`, async () => {
      const { code, lines, output } = await runNode([fileURLToPath(new URL(app, fixtures))]);
      expect(lines.map((l) => l.type), output).toEqual(['run', 'run', 'executed', 'end']);
      expect(lines.filter((l) => l.type === 'run').map((l) => [l.reason, l.daemon])).toEqual([['scheduled', daemon], ['invoked', daemon]]);
      expect(lines[2]).toEqual({ type: 'executed', date: true });
      expect(lines[3]).toEqual({ type: 'end', tasks: 0 });
      expect(code).toBe(0);
    });
  }
});

describe('called from no file (node -e, the REPL), a relative task file is relative to the working directory', () => {
  const cwd = fileURLToPath(fixtures);
  // Run by the app only: a daemon (which has an IPC channel) that ran it would fork daemons of its own.
  const body = (end: string): string => `
    if (process.send) process.exit(3);
    const report = (r) => console.log(JSON.stringify(r));
    report({ type: 'solved', url: solvePath('./task.mjs') });
    cron.createTask('* * * * * *', './missing.mjs').start().then(() => report({ type: 'started' }), (error) => {
      report({ type: 'failed', message: error.message });
      const task = cron.schedule('* * * * * *', './task.mjs', { name: 'no-file' });
      task.once('execution:finished', async () => { await cron.shutdown(); report({ type: 'end', tasks: cron.getTasks().size }); ${end} });
    });`;
  const commonJs = "const cron = require('fleetcron'); const { solvePath } = cron;";
  const cases: Array<[string, string[], string?]> = [
    ['node -e', ['-e', `${commonJs}${body('')}`]],
    ['node --input-type=module -e', ['--input-type=module', '-e', `import cron, { solvePath } from 'fleetcron';${body('')}`]],
    // The REPL takes one line at a time and ends the process when its input does.
    ['the REPL (node -i)', ['-i'], `${commonJs}${body('process.exit(0);')}`.replace(/\n\s*/g, ' ') + '\n'],
  ];

  it.each(cases)('%s: solvePath, a missing file named in the error, a task file run in the daemon', async (_, args, input) => {
    const { code, lines, output } = await runNode(args, { cwd, input });
    expect(lines.map((l) => l.type), output).toEqual(['solved', 'failed', 'run', 'end']);
    expect(lines[0]!.url).toBe(pathToFileURL(`${cwd}task.mjs`).href);
    expect(lines[1]!.message).toBe(`fleetcron: background task file ${cwd}missing.mjs does not exist`);
    expect(lines[2]).toEqual({ type: 'run', reason: 'scheduled', daemon });
    expect(lines[3]).toEqual({ type: 'end', tasks: 0 });
    expect(code).toBe(0);
  });
});
