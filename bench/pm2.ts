import type { Section } from './lib/section.js';

/**
 * Hook for the PM2 bus figures of issue 4 (election round trip through the arbiter beside the raw PM2 bus round
 * trip, same run), owned by the engineer measuring PM2. Until it is filled in, it says where the measurement lives.
 */
export const pm2Section: Section = {
  name: 'pm2',
  title: 'IPC through the PM2 bus (issue 4)',
  async run() {
    return '_Not measured by `npm run bench` yet: see `test/pm2/measure-roundtrip.ts` (to be moved here, into `bench/pm2.ts`)._';
  },
};
