// Product writes. Every write commits in PostgreSQL first, then invalidates what it touched: the entity
// keys, and every cached list and count (docs/ARCHITECTURE.md, the write path). Stock changes are also
// published to inventoryChanged subscribers on every instance.
import type { Decimal } from '@prisma/client/runtime/client';
import type { EntityCache } from '../cache/entity-cache.ts';
import type { KeyBuilder } from '../cache/keys.ts';
import type { Database } from '../db/prisma.ts';
import type { Inventory, MemberPrice, MemberTier, Prisma, Product } from '../generated/prisma/client.ts';
import { parseIntId, parseUuid } from '../graphql/arguments.ts';
import { BadUserInputError, ErrorCode, GatewayError, NotFoundError } from '../infra/errors.ts';
import { PRODUCT_LISTS_TAG } from './product-listing.ts';
import type { StockEvents } from './stock-events.ts';

const SKU = /^[A-Z0-9-]{3,32}$/;
const MAX_PRICE = 10_000_000_000;
const MEMBER_TIERS = ['SILVER', 'GOLD', 'PLATINUM'] as const;

export interface ProductInput {
  sku?: string;
  name?: string | null;
  description?: string | null;
  price?: Decimal | null;
  categoryId?: string | null;
}

export interface ProductServiceDeps {
  db: Database;
  cache: EntityCache;
  keys: KeyBuilder;
  stock: StockEvents;
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > 200)
    throw new BadUserInputError('name must be 1 to 200 characters', 'name');
  return trimmed;
}

function checkPrice(price: Decimal): Decimal {
  if (price.isNegative()) throw new BadUserInputError('price must not be negative', 'price');
  if (price.decimalPlaces() > 2) throw new BadUserInputError('price has at most 2 decimal places', 'price');
  // The columns are numeric(12, 2): a larger amount would be a database error, not a coded one.
  if (price.greaterThanOrEqualTo(MAX_PRICE)) throw new BadUserInputError('price must be below 10000000000', 'price');
  return price;
}

function checkDescription(description: string): string {
  if (description.length > 5000)
    throw new BadUserInputError('description must be at most 5000 characters', 'description');
  return description;
}

/** Maps constraint violations to coded errors; anything else stays an internal error. */
function rethrowWriteError(error: unknown): never {
  const code = (error as { code?: string }).code;
  if (code === 'P2002') throw new GatewayError('a product with this sku already exists', ErrorCode.CONFLICT);
  // References are checked before writing (referencesExist); this only catches one deleted meanwhile.
  if (code === 'P2003') throw new BadUserInputError('a referenced category or seller does not exist', 'input');
  throw error;
}

export class ProductService {
  constructor(private readonly deps: ProductServiceDeps) {}

  async get(id: string): Promise<Product> {
    const product = await this.deps.db.product.findUnique({ where: { id: parseIntId(id, 'id') } });
    if (!product) throw new NotFoundError('product');
    return product;
  }

  async create(
    input: ProductInput & {
      sku: string;
      name: string;
      price: Decimal;
      categoryId: string;
      initialStock?: number | null;
    },
    sellerId: string | null,
  ): Promise<Product> {
    if (!SKU.test(input.sku)) throw new BadUserInputError('sku must be 3 to 32 characters of A-Z, 0-9 and -', 'sku');
    const stock = input.initialStock ?? 0;
    if (!Number.isInteger(stock) || stock < 0 || stock > 1_000_000)
      throw new BadUserInputError('initialStock must be 0 to 1000000', 'initialStock');
    const data: Prisma.ProductUncheckedCreateInput = {
      sku: input.sku,
      name: checkName(input.name),
      description: checkDescription(input.description ?? ''),
      price: checkPrice(input.price),
      categoryId: parseIntId(input.categoryId, 'categoryId'),
      organizationId: sellerId === null ? null : parseUuid(sellerId, 'sellerId'),
      inventory: { create: { onHand: stock } },
    };
    await this.referencesExist(data.categoryId, data.organizationId ?? null);
    const { inventory, ...product } = await this.deps.db.product
      .create({ data, include: { inventory: true } })
      .catch(rethrowWriteError);
    await this.invalidate(product.id);
    if (inventory) await this.deps.stock.changed([inventory]);
    return product;
  }

  async update(existing: Product, input: ProductInput): Promise<Product> {
    const data: Prisma.ProductUncheckedUpdateInput = {};
    if (input.name != null) data.name = checkName(input.name);
    if (input.description != null) data.description = checkDescription(input.description);
    if (input.price != null) data.price = checkPrice(input.price);
    if (input.categoryId != null) data.categoryId = parseIntId(input.categoryId, 'categoryId');
    if (Object.keys(data).length === 0)
      throw new BadUserInputError('input changes nothing: give at least one field', 'input');
    if (typeof data.categoryId === 'number') await this.referencesExist(data.categoryId, null);
    const product = await this.deps.db.product.update({ where: { id: existing.id }, data }).catch(rethrowWriteError);
    await this.invalidate(product.id);
    return product;
  }

  async delete(existing: Product): Promise<boolean> {
    // Open carts lose the line; the product's inventory, member prices and wishlist entries cascade.
    await this.deps.db.$transaction([
      this.deps.db.cartItem.deleteMany({ where: { productId: existing.id } }),
      this.deps.db.product.delete({ where: { id: existing.id } }),
    ]);
    await this.invalidate(existing.id);
    return true;
  }

  async setStock(existing: Product, onHand: number): Promise<Inventory> {
    if (!Number.isInteger(onHand) || onHand < 0 || onHand > 1_000_000)
      throw new BadUserInputError('onHand must be 0 to 1000000', 'onHand');
    // The CHECK constraint (reserved <= onHand) refuses a count below what is already reserved.
    const inventory = await this.deps.db.inventory
      .upsert({
        where: { productId: existing.id },
        create: { productId: existing.id, onHand },
        update: { onHand, version: { increment: 1 } },
      })
      .catch((error: unknown) => {
        if (String((error as Error).message).includes('Inventory_reserved_within_onHand')) {
          throw new BadUserInputError('onHand cannot be below the units already reserved', 'onHand');
        }
        throw error;
      });
    await this.deps.stock.changed([inventory]);
    return inventory;
  }

  /** Adds units on hand in one conditional UPDATE (no read-modify-write race with checkouts). */
  async restock(existing: Product, quantity: number): Promise<Inventory> {
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > 1_000_000)
      throw new BadUserInputError('quantity must be 1 to 1000000', 'quantity');
    const rows = await this.deps.db.$queryRaw<Inventory[]>`
      INSERT INTO "Inventory" ("productId", "onHand", "updatedAt") VALUES (${existing.id}, ${quantity}, now())
      ON CONFLICT ("productId") DO UPDATE SET "onHand" = "Inventory"."onHand" + EXCLUDED."onHand",
        "version" = "Inventory"."version" + 1, "updatedAt" = now()
      WHERE "Inventory"."onHand" + EXCLUDED."onHand" <= 1000000
      RETURNING *`;
    const inventory = rows[0];
    if (!inventory) throw new BadUserInputError('onHand would exceed 1000000', 'quantity');
    await this.deps.stock.changed([inventory]);
    return inventory;
  }

  /**
   * A member tier's price. Invalidates exactly that tier's price entry: lists sort and filter by the base
   * price, so no list changes. REGULAR is the base price (updateProduct).
   */
  async setMemberPrice(existing: Product, tier: MemberTier, price: Decimal): Promise<MemberPrice> {
    if (tier === 'REGULAR')
      throw new BadUserInputError('REGULAR is the base price: change it with updateProduct', 'tier');
    const amount = checkPrice(price);
    const row = await this.deps.db.memberPrice.upsert({
      where: { productId_tier: { productId: existing.id, tier } },
      create: { productId: existing.id, tier, price: amount },
      update: { price: amount },
    });
    await this.deps.cache.invalidate([this.deps.keys.entityKey('MemberPrice', `${existing.id}.${tier}`)]);
    return row;
  }

  /** Names the argument that points at nothing, rather than leaving it to a foreign-key error. */
  private async referencesExist(categoryId: number, sellerId: string | null): Promise<void> {
    const [category, seller] = await Promise.all([
      this.deps.db.category.findUnique({ where: { id: categoryId }, select: { id: true } }),
      sellerId
        ? this.deps.db.organization.findUnique({ where: { id: sellerId }, select: { id: true } })
        : Promise.resolve({ id: null }),
    ]);
    if (!category) throw new BadUserInputError('categoryId does not name an existing category', 'categoryId');
    if (!seller) throw new BadUserInputError('sellerId does not name an existing organization', 'sellerId');
  }

  /** Every key that can hold this product, then every list and count. */
  private async invalidate(productId: number): Promise<void> {
    const { keys, cache } = this.deps;
    const id = String(productId);
    await cache.invalidate([
      keys.entityKey('Product', id),
      keys.entityKey('Inventory', id),
      ...MEMBER_TIERS.map((tier) => keys.entityKey('MemberPrice', `${id}.${tier}`)),
    ]);
    await cache.invalidateTags([PRODUCT_LISTS_TAG]);
  }
}
