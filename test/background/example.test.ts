import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/pm2.js';
import { isAlive } from '../support/processes.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('examples/background (uses the built package: run npm run build first)', () => {
  it('runs with the tsx command line (a TypeScript task file in a daemon that inherits the loader) and stops by itself', async () => {
    const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [tsx, 'examples/background/app.ts'], { cwd: root, timeout: 30_000 }, (_error, out, err) =>
        resolve({ code: child.exitCode, stdout: out, stderr: err }),
      );
    });
    const lines = stdout.trim().split('\n');
    const fires = lines.filter((l) => /^scheduled fire \S+: found \d+ primes in daemon \d+ \(took \d+ ms\)$/.test(l));
    const manual = lines.filter((l) => /^manual execute\(\): found \d+ primes in daemon \d+$/.test(l));
    // Three fires, then the manual run (a fourth fire may come while it runs on a busy machine), then the shutdown.
    expect(fires.length, stdout + stderr).toBeGreaterThanOrEqual(3);
    expect(manual, stdout + stderr).toHaveLength(1);
    expect(lines.indexOf(manual[0]!)).toBeGreaterThan(lines.indexOf(fires[2]!));
    expect(lines.at(-1)).toBe('shut down');
    expect(code).toBe(0);
    // Every run, scheduled or manual, ran in the one daemon, which is gone with the app.
    const daemons = new Set([...fires, ...manual].map((l) => Number(/in daemon (\d+)/.exec(l)![1])));
    expect(daemons.size).toBe(1);
    await waitFor(() => [...daemons].every((pid) => !isAlive(pid)), 5000, 'the daemon to be gone');
  });
});
