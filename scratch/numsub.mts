import { startRedisCluster } from '/work/wt-cluster/test/support/redis-cluster.ts';
import { createRedisConnection } from '/work/wt-cluster/src/redis/connection.ts';
import { countSubscribers } from '/work/wt-cluster/src/redis/slots.ts';
import { pino } from 'pino';
const c = await startRedisCluster();
const logger = pino({ level: 'silent' });
try {
  const main = createRedisConnection({ url: c.url, name: 'm', logger });
  const s1 = createRedisConnection({ url: c.url, name: 's1', logger });
  const s2 = createRedisConnection({ url: c.url, name: 's2', logger });
  await new Promise((r) => setTimeout(r, 1000));
  await s1.ssubscribe('cg:cache-invalidate');
  await s2.ssubscribe('cg:cache-invalidate');
  console.log('count', await countSubscribers(main, 'cg:cache-invalidate'));
  for (const n of (main as any).nodes('all')) console.log(n.options.port, await n.pubsub('SHARDNUMSUB', 'cg:cache-invalidate'));
  main.disconnect(); s1.disconnect(); s2.disconnect();
} finally { await c.destroy(); }
