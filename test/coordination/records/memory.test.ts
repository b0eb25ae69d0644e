import { MemoryRunCoordinator } from '../../../src/index.js';
import { describeFireBackend } from './contract.js';

// One object is the store: the two "hosts" share it, as the workers of one host share their authority's.
describeFireBackend('MemoryRunCoordinator', () => {
  const shared = new MemoryRunCoordinator();
  return { hosts: [shared, shared], withRetention: async (perTask) => new MemoryRunCoordinator({ perTask }) };
});
