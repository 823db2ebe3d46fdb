// Child process: a baseline GraphQL server over the same SDL (schema/*.graphql) and the same database,
// written the way a peer team would, with resolvers for just the fields the bench queries. One of:
//   no-cache               Prisma + per-request DataLoader batching, no cache at all (the floor).
//   apollo-response-cache  the same resolvers plus Apollo's official whole-response cache plugin,
//                          stored in the same Redis through @apollo/utils.keyvadapter + keyv + @keyv/redis.
//   hand-rolled-redis      cache-aside per entity with ioredis GET / SET EX (JSON), no batching: each
//                          field resolver asks Redis for its own entity, the pattern in the reference docs.
//   mercurius              Fastify + Mercurius with graphql-jit and mercurius-cache on the same Redis,
//                          caching every resolver of the bench's paths (the peer a team sets up quickly).
// Mode from BASELINE_MODE; DATABASE_URL, REDIS_URL and DATABASE_POOL_SIZE from the environment.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import responseCachePlugin from '@apollo/server-plugin-response-cache';
import { KeyvAdapter } from '@apollo/utils.keyvadapter';
import KeyvRedis from '@keyv/redis';
import DataLoader from 'dataloader';
import { Redis } from 'ioredis';
import Keyv from 'keyv';
import { createDatabase } from '../../src/db/prisma.ts';
import type {
  Category,
  Inventory,
  MemberPrice,
  MemberTier,
  Prisma,
  Product,
} from '../../src/generated/prisma/client.ts';
import { scalarResolvers } from '../../src/graphql/scalars.ts';
import { serveCommands } from './ipc.ts';

export type BaselineMode = 'no-cache' | 'apollo-response-cache' | 'hand-rolled-redis' | 'mercurius';
type Sort = 'NEWEST' | 'PRICE_ASC' | 'PRICE_DESC' | 'BEST_SELLING';

/** Entity TTLs, copied from the @cacheControl hints the way a team would copy them into constants. */
const TTL = { product: 7200, category: 86_400, inventory: 300, memberPrice: 1800, list: 3600 } as const;

const mode = process.env.BASELINE_MODE as BaselineMode;
if (!['no-cache', 'apollo-response-cache', 'hand-rolled-redis', 'mercurius'].includes(mode))
  throw new Error(`BASELINE_MODE must be a baseline name, got ${mode}`);
const redisUrl = process.env.REDIS_URL;
if (mode !== 'no-cache' && !redisUrl) throw new Error(`${mode} needs REDIS_URL`);

let sql = 0;
const db = createDatabase({
  url: process.env.DATABASE_URL!,
  poolSize: Number(process.env.DATABASE_POOL_SIZE ?? 10),
  onQuery: () => void (sql += 1),
});

interface ListArgs {
  filter?: { categoryId?: string | null; includeSubcategories?: boolean | null } | null;
  sort?: Sort | null;
  first?: number | null;
}

/** What the resolvers read through; one instance per request. */
interface Data {
  product(id: number): Promise<Product | null>;
  category(id: number): Promise<Category | null>;
  inventory(productId: number): Promise<Inventory | null>;
  memberPrice(productId: number, tier: MemberTier): Promise<MemberPrice | null>;
  productPage(args: ListArgs): Promise<Product[]>;
}

const ORDER: Record<Sort, Prisma.ProductOrderByWithRelationInput[]> = {
  NEWEST: [{ createdAt: 'desc' }, { id: 'desc' }],
  PRICE_ASC: [{ price: 'asc' }, { id: 'asc' }],
  PRICE_DESC: [{ price: 'desc' }, { id: 'desc' }],
  BEST_SELLING: [{ salesCount: 'desc' }, { id: 'desc' }],
};

function descendantsOf(rootId: number, tree: readonly Pick<Category, 'id' | 'parentId'>[]): number[] {
  const ids = [rootId];
  for (let i = 0; i < ids.length; i += 1) for (const c of tree) if (c.parentId === ids[i]) ids.push(c.id);
  return ids.sort((a, b) => a - b);
}

async function readPage(args: ListArgs, tree: () => Promise<Pick<Category, 'id' | 'parentId'>[]>): Promise<Product[]> {
  const first = Math.min(Math.max(args.first ?? 20, 1), 100);
  const where: Prisma.ProductWhereInput = {};
  if (args.filter?.categoryId != null) {
    const root = Number(args.filter.categoryId);
    where.categoryId = { in: args.filter.includeSubcategories === false ? [root] : descendantsOf(root, await tree()) };
  }
  return db.product.findMany({ where, orderBy: ORDER[args.sort ?? 'NEWEST'], take: first });
}

const byKey = <V>(rows: V[], keyOf: (row: V) => string | number): Map<string, V> =>
  new Map(rows.map((r) => [String(keyOf(r)), r]));

/** Per-request DataLoaders straight over Prisma: what no-cache and apollo-response-cache resolve with. */
function batchedData(): Data {
  const product = new DataLoader<number, Product | null>(async (ids) => {
    const found = byKey(await db.product.findMany({ where: { id: { in: [...ids] } } }), (p) => p.id);
    return ids.map((id) => found.get(String(id)) ?? null);
  });
  const category = new DataLoader<number, Category | null>(async (ids) => {
    const found = byKey(await db.category.findMany({ where: { id: { in: [...ids] } } }), (c) => c.id);
    return ids.map((id) => found.get(String(id)) ?? null);
  });
  const inventory = new DataLoader<number, Inventory | null>(async (ids) => {
    const found = byKey(await db.inventory.findMany({ where: { productId: { in: [...ids] } } }), (i) => i.productId);
    return ids.map((id) => found.get(String(id)) ?? null);
  });
  const memberPrice = new DataLoader<string, MemberPrice | null>(async (keys) => {
    const pairs = keys.map((k) => k.split(':') as [string, MemberTier]);
    const rows = await db.memberPrice.findMany({
      where: {
        productId: { in: [...new Set(pairs.map(([id]) => Number(id)))] },
        tier: { in: [...new Set(pairs.map(([, tier]) => tier))] },
      },
    });
    const found = byKey(rows, (r) => `${r.productId}:${r.tier}`);
    return keys.map((k) => found.get(k) ?? null);
  });
  let tree: Promise<Pick<Category, 'id' | 'parentId'>[]> | undefined;
  return {
    product: (id) => product.load(id),
    category: (id) => category.load(id),
    inventory: (id) => inventory.load(id),
    memberPrice: (id, tier) => memberPrice.load(`${id}:${tier}`),
    productPage: (args) =>
      readPage(args, () => (tree ??= db.category.findMany({ select: { id: true, parentId: true } }))),
  };
}

/** Cache-aside per entity, one Redis GET per field resolver, the way the reference docs write it. */
function cacheAsideData(redis: Redis): Data {
  async function cached<T>(key: string, ttlSeconds: number, load: () => Promise<T | null>): Promise<T | null> {
    try {
      const hit = await redis.get(key);
      if (hit !== null) return JSON.parse(hit) as T;
    } catch {
      // Redis trouble: fall through to the database.
    }
    const value = await load();
    if (value !== null) await redis.set(key, JSON.stringify(value), 'EX', ttlSeconds).catch(() => undefined);
    return value;
  }
  const tree = (): Promise<Pick<Category, 'id' | 'parentId'>[]> =>
    cached('hr:categories:tree', TTL.category, () =>
      db.category.findMany({ select: { id: true, parentId: true } }),
    ).then((t) => t ?? []);
  return {
    product: (id) => cached(`hr:product:${id}`, TTL.product, () => db.product.findUnique({ where: { id } })),
    category: (id) => cached(`hr:category:${id}`, TTL.category, () => db.category.findUnique({ where: { id } })),
    inventory: (id) =>
      cached(`hr:inventory:${id}`, TTL.inventory, () => db.inventory.findUnique({ where: { productId: id } })),
    memberPrice: (id, tier) =>
      cached(`hr:price:${id}:${tier}`, TTL.memberPrice, () =>
        db.memberPrice.findUnique({ where: { productId_tier: { productId: id, tier } } }),
      ),
    productPage: async (args) =>
      (await cached(
        `hr:products:${JSON.stringify([args.filter ?? null, args.sort ?? 'NEWEST', args.first ?? 20])}`,
        TTL.list,
        () => readPage(args, tree),
      )) ?? [],
  };
}

interface Context {
  data: Data;
}

const parseId = (id: string): number | null => (/^\d{1,9}$/.test(id) ? Number(id) : null);

const resolvers = {
  ...scalarResolvers,
  Query: {
    product: (_: unknown, { id }: { id: string }, { data }: Context) => {
      const parsed = parseId(id);
      return parsed === null ? null : data.product(parsed);
    },
    products: async (_: unknown, args: ListArgs, { data }: Context) => ({ nodes: await data.productPage(args) }),
  },
  Product: {
    id: (p: Product) => String(p.id),
    basePrice: (p: Product) => p.price,
    // Anonymous bench traffic: the REGULAR price, as cachegate gives an anonymous visitor.
    price: async (p: Product, { tier = 'REGULAR' }: { tier?: MemberTier }, { data }: Context) => {
      const member = tier === 'REGULAR' ? null : await data.memberPrice(p.id, tier);
      return { tier, amount: member?.price ?? p.price, currency: 'MYR', isMemberPrice: member !== null };
    },
    category: (p: Product, _: unknown, { data }: Context) => data.category(p.categoryId),
    inventory: (p: Product, _: unknown, { data }: Context) => data.inventory(p.id),
  },
  Category: {
    id: (c: Category) => String(c.id),
    parent: (c: Category, _: unknown, { data }: Context) => (c.parentId === null ? null : data.category(c.parentId)),
  },
  Inventory: {
    productId: (i: Inventory) => String(i.productId),
    available: (i: Inventory) => i.onHand - i.reserved,
    inStock: (i: Inventory) => i.onHand - i.reserved > 0,
  },
};

const schemaDir = new URL('../../schema/', import.meta.url).pathname;
const typeDefs = readdirSync(schemaDir)
  .filter((f) => f.endsWith('.graphql'))
  .sort()
  .map((f) => readFileSync(join(schemaDir, f), 'utf8'));

if (mode === 'mercurius') {
  const { startMercurius } = await import('./mercurius.ts');
  const mercurius = await startMercurius({
    typeDefs,
    resolvers,
    redisUrl: redisUrl!,
    context: () => ({ data: batchedData() }),
    ttl: TTL,
  });
  serveCommands(mercurius.url, {
    stats: () => ({ sql }),
    async stop() {
      await mercurius.stop();
      await db.$disconnect();
    },
  });
} else await startApollo();

async function startApollo(): Promise<void> {
  let keyv: Keyv<string> | undefined;
  let redis: Redis | undefined;
  const plugins: ApolloServerPlugin<Context>[] = [];
  if (mode === 'apollo-response-cache') {
    keyv = new Keyv<string>({ store: new KeyvRedis(redisUrl!), namespace: 'arc' });
    plugins.push(responseCachePlugin());
  }
  if (mode === 'hand-rolled-redis') redis = new Redis(redisUrl!, { lazyConnect: false, maxRetriesPerRequest: 1 });

  const server = new ApolloServer<Context>({
    typeDefs,
    resolvers,
    plugins,
    // The adapter is CommonJS and types against keyv's .d.cts; the instance is the same class at run time.
    ...(keyv && {
      cache: new KeyvAdapter<string>(keyv as unknown as ConstructorParameters<typeof KeyvAdapter<string>>[0]),
    }),
  });
  const { url } = await startStandaloneServer(server, {
    listen: { host: '127.0.0.1', port: 0 },
    context: async () => ({ data: redis ? cacheAsideData(redis) : batchedData() }),
  });

  serveCommands(url, {
    stats: () => ({ sql }),
    // All the response cache plugin's store offers: dropping every cached response (no per-entity purge).
    flush: keyv ? () => keyv!.clear() : undefined,
    async stop() {
      await server.stop();
      await Promise.allSettled([keyv?.disconnect(), redis?.quit(), db.$disconnect()]);
    },
  });
}
