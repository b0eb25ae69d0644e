import { describe, expect, it } from 'vitest';
import { serveCluster } from '../../src/index.js';
import { silentLogger } from '../../src/logger.js';

describe('serveCluster() in a primary', () => {
  it('serves once per process: a second call throws until the first handle is closed', () => {
    const first = serveCluster({ logger: silentLogger });
    try {
      expect(() => serveCluster({ logger: silentLogger })).toThrow(/serveCluster\(\): this process already serves elections; close\(\) the handle/);
    } finally {
      first.close();
    }
    const again = serveCluster({ logger: silentLogger });
    again.close();
  });
});
