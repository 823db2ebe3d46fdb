// The Mercurius peer of the bench: Fastify + Mercurius with graphql-jit (jit: 1 compiles each query on
// its first run) and mercurius-cache storing every resolver of the bench's paths in Redis, with the
// TTLs of the schema's @cacheControl hints. Same SDL, resolvers and database reads as the baselines.
import Fastify from 'fastify';
import mercurius from 'mercurius';
import mercuriusCache from 'mercurius-cache';
import { Redis } from 'ioredis';

export async function startMercurius(options: {
  typeDefs: string[];
  resolvers: Record<string, unknown>;
  redisUrl: string;
  context: () => unknown;
  ttl: { product: number; category: number; inventory: number; memberPrice: number; list: number };
}): Promise<{ url: string; stop(): Promise<void> }> {
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
  const app = Fastify({ logger: false });
  await app.register(mercurius, {
    schema: options.typeDefs.join('\n'),
    resolvers: options.resolvers as never,
    jit: 1,
    context: options.context as never,
  });
  const { ttl } = options;
  await app.register(
    mercuriusCache as never,
    {
      storage: { type: 'redis', options: { client: redis, invalidation: false } },
      ttl: ttl.product,
      policy: {
        Query: { product: { ttl: ttl.product }, products: { ttl: ttl.list } },
        Product: {
          category: { ttl: ttl.category },
          inventory: { ttl: ttl.inventory },
          price: { ttl: ttl.memberPrice },
        },
        Category: { parent: { ttl: ttl.category } },
      },
    } as never,
  );
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: `${url}/graphql`,
    async stop() {
      await app.close();
      await redis.quit();
    },
  };
}
