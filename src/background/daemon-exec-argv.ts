/** Node options that say what to run instead of a file, with their value as the next argument. */
const SOURCE_WITH_VALUE = new Set(['-e', '--eval', '-p', '--print', '-pe', '--input-type']);
const SOURCE_PREFIXES = ['--eval=', '--print=', '--input-type='];

/**
 * The parent's Node options for its daemon — loaders such as tsx, `--conditions`, heap limits — less those that
 * say what to run: Node's `fork()` drops `-e code` and `-p code` but not `--eval=code`, with which the daemon would
 * run the parent's code instead of its own file (and fork again), and `--input-type` makes Node refuse the
 * daemon's file.
 */
export function daemonExecArgv(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i] as string;
    if (SOURCE_WITH_VALUE.has(arg)) i++;
    else if (!SOURCE_PREFIXES.some((prefix) => arg.startsWith(prefix))) kept.push(arg);
  }
  return kept;
}
