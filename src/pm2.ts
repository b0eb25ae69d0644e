export { servePm2 } from './pm2/serve.js';
export type { Pm2AuthorityHandle, ServePm2Options } from './pm2/serve.js';
