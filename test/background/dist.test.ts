import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixtures = new URL('../fixtures/background/dist/', import.meta.url);
const daemon = fileURLToPath(new URL('../../dist/daemon.js', import.meta.url));

/** Runs an app with plain node (no loader, no source condition), so `fleetcron` is the built package. */
function run(app: string): Promise<{ code: number | null; lines: Array<Record<string, unknown>>; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [fileURLToPath(new URL(app, fixtures))], { timeout: 20_000 }, (_error, stdout, stderr) => {
      const lines = stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
      resolve({ code: child.exitCode, lines, stderr });
    });
  });
}

describe('the built package (run npm run build first) forks its daemon from dist', () => {
  for (const app of ['app.mjs', 'app.cjs']) {
    it(`${app.endsWith('.cjs') ? 'CommonJS' : 'ESM'}: resolves the task file against the app, runs it in dist/daemon.js, exits after shutdown`, async () => {
      const { code, lines, stderr } = await run(app);
      expect(lines.map((l) => l.type), stderr).toEqual(['run', 'run', 'executed', 'end']);
      expect(lines.filter((l) => l.type === 'run').map((l) => [l.reason, l.daemon])).toEqual([['scheduled', daemon], ['invoked', daemon]]);
      expect(lines[2]).toEqual({ type: 'executed', date: true });
      expect(lines[3]).toEqual({ type: 'end', tasks: 0 });
      expect(code).toBe(0);
    });
  }
});
