import cron from 'node-cron';
const N = 50000;
const used = async () => { await new Promise((r) => setTimeout(r, 50)); gc(); gc(); return process.memoryUsage().heapUsed; };
const expr = (i) => `${i % 60} ${Math.floor(i / 60) % 60} ${Math.floor(i / 3600) % 24} ${1 + (Math.floor(i / 86400) % 28)} * *`;
cron.schedule('0 0 1 1 *', () => {}).destroy();
const base = await used();
for (let i = 0; i < N; i++) cron.schedule(expr(i), () => {}).destroy();
console.log('node-cron', ((await used() - base) / 1048576).toFixed(2));
