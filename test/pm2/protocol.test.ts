import { describe, expect, it, onTestFailed } from 'vitest';
import { MESSAGE_TYPE, PROTOCOL, VERSION } from '../../src/ipc/protocol.js';
import { ARBITER, fixture, logText, reportsOf, tsApp, usePm2WithArbiter } from './helpers.js';

interface Done {
  replies: { id: string; ok: boolean; code?: string; ms: number }[];
  elected?: boolean;
  error?: string;
}

const harness = usePm2WithArbiter();

describe('PM2 transport: protocol hardening on the bus', () => {
  it('answers malformed and unknown-version requests with errors, ignores foreign traffic, and crashes nobody', async () => {
    const pm2 = harness();
    onTestFailed(() => console.log(logText(pm2)));
    const before = await pm2.list();
    const arbiter = before.find((p) => p.name === ARBITER)!;

    await pm2.start([tsApp({ name: 'hostile', script: fixture('hostile.mts'), exec_mode: 'cluster', instances: 1 })]);
    await pm2.waitFor(() => reportsOf(pm2, 'hostile', 'sent').length > 0, 15_000, 'the hostile instance to send its messages');
    const hostile = (await pm2.list()).find((p) => p.name === 'hostile')!;

    // Junk for the instance's side of the channel: foreign topics, a reply nobody asked for, malformed replies.
    const junk = [
      { topic: 'something-else', data: 'junk' },
      { type: MESSAGE_TYPE, topic: PROTOCOL, data: null },
      { type: MESSAGE_TYPE, topic: PROTOCOL, data: { proto: PROTOCOL, v: VERSION, kind: 'reply' } },
      { type: MESSAGE_TYPE, topic: PROTOCOL, data: { proto: PROTOCOL, v: VERSION, kind: 'reply', id: 'nobody-asked', ok: true, authority: { id: 'x', pid: 1 } } },
    ];
    for (const packet of junk) await pm2.send(hostile.pm_id, packet);
    await pm2.send(hostile.pm_id, { topic: 'fleetcron-test', data: { kind: 'go' } });

    const [done] = await pm2.waitFor(() => {
      const reports = reportsOf<Done>(pm2, 'hostile', 'done');
      return reports.length > 0 && reports;
    }, 15_000, 'the hostile instance to finish');
    const byId = Object.fromEntries(done!.replies.map((r) => [r.id, r]));

    // Still answering, with a real election, after all of it.
    expect(done!.error).toBeUndefined();
    expect(done!.elected).toBe(true);
    // Requests carrying an id get an error reply; the unknown version is refused at once, not left to time out.
    expect(byId['v99']).toMatchObject({ ok: false, code: 'unsupported-version' });
    expect(byId['v99']!.ms).toBeLessThan(1000);
    for (const id of ['no-key', 'bad-kind', 'bad-ttl', 'reply-shaped', 'oversized']) expect(byId[id], id).toMatchObject({ ok: false, code: 'bad-request' });
    // Traffic that is not ours (another protocol, another bus event) is not answered.
    expect(Object.keys(byId).sort()).toEqual(['bad-kind', 'bad-ttl', 'no-key', 'oversized', 'reply-shaped', 'v99']);

    const after = await pm2.list();
    expect(after.find((p) => p.name === ARBITER)).toMatchObject({ pid: arbiter.pid, restarts: 0, status: 'online' });
    expect(after.find((p) => p.name === 'hostile')).toMatchObject({ pid: hostile.pid, restarts: 0, status: 'online' });
  }, 40_000);
});
