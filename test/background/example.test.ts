import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

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
    expect(lines.filter((l) => / found \d+ primes in daemon \d+/.test(l)), stderr).toHaveLength(4);
    expect(lines.slice(-2)).toEqual([expect.stringMatching(/^execute\(\) now: \d+ primes$/), 'shut down']);
    expect(code).toBe(0);
  });
});
