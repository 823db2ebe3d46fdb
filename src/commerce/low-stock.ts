// Products running out, for the admins who restock them: one SQL query for the ids (the available
// count is a column difference, which Prisma's filters cannot express), then the request's loaders.
import type { Database } from '../db/prisma.ts';
import { Prisma, type Inventory, type Product } from '../generated/prisma/client.ts';
import { parsePageSize } from '../graphql/arguments.ts';
import { loadExisting } from '../graphql/load.ts';
import { BadUserInputError } from '../infra/errors.ts';
import type { CommerceLoaders } from './loaders.ts';

export interface LowStockRow {
  product: Product;
  inventory: Inventory;
}

/** `organizationId` null: every product (platform admins). */
export async function lowStock(
  db: Database,
  loaders: CommerceLoaders,
  args: { threshold: number; first?: number | null; organizationId: string | null },
): Promise<LowStockRow[]> {
  const { threshold, organizationId } = args;
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > 1_000_000)
    throw new BadUserInputError('threshold must be 0 to 1000000', 'threshold');
  const first = parsePageSize(args.first);
  const scope = organizationId === null ? Prisma.sql`TRUE` : Prisma.sql`p."organizationId" = ${organizationId}::uuid`;
  const rows = await db.$queryRaw<{ id: number }[]>`
    SELECT p."id" FROM "Product" p JOIN "Inventory" i ON i."productId" = p."id"
     WHERE ${scope} AND i."onHand" - i."reserved" <= ${threshold}
     ORDER BY i."onHand" - i."reserved" ASC, p."id" ASC LIMIT ${first}`;
  const ids = rows.map((r) => r.id);
  const [products, inventories] = await Promise.all([
    loadExisting(loaders.product, ids),
    loadExisting(loaders.inventory, ids),
  ]);
  const inventoryOf = new Map(inventories.map((i) => [i.productId, i]));
  return products.flatMap((product) => {
    const inventory = inventoryOf.get(product.id);
    return inventory ? [{ product, inventory }] : [];
  });
}
