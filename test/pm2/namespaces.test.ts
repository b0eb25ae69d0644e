import { describe, expect, it, onTestFailed } from 'vitest';
import { DEMO_APP, demoApp, demoFires, logText, usePm2WithArbiter } from './helpers.js';

const INSTANCES = 2;
const NAMESPACES = ['prod', 'staging'];

const harness = usePm2WithArbiter();

describe('PM2: one app name in two namespaces', () => {
  it('elects each namespace on its own: every fire runs once in prod and once in staging', async () => {
    const pm2 = harness();
    onTestFailed(() => console.log(logText(pm2)));
    for (const namespace of NAMESPACES) await pm2.startInNamespace(demoApp(INSTANCES), namespace);
    expect((await pm2.list()).filter((p) => p.name === DEMO_APP)).toHaveLength(INSTANCES * NAMESPACES.length);

    const fires = NAMESPACES.map((namespace) =>
      demoFires(() => pm2.lines.filter((l) => l.app === DEMO_APP && l.namespace === namespace).map((l) => l.text), INSTANCES),
    );
    // Sharing one scope, the namespaces would elect one winner per fire between them: about half the fires of
    // each would run nowhere (in the other namespace instead).
    const runs = await pm2.waitFor(() => {
      const settled = fires.map((f) => f.settled());
      return settled.every((run) => run.length >= 6) && settled;
    }, 30_000, '6 settled fires in each namespace');
    NAMESPACES.forEach((namespace, i) => expect(runs[i]!.filter((f) => !fires[i]!.elected(f)), namespace).toEqual([]));
  }, 60_000);
});
