// Wishlists are per user: PRIVATE data, read from PostgreSQL and never put in a shared cache
// (docs/ARCHITECTURE.md). The toggle is one transaction, so a double click cannot leave two rows.
import type { Database } from '../db/prisma.ts';

export interface WishlistToggleResult {
  productId: string;
  inWishlist: boolean;
  count: number;
}

export class WishlistService {
  constructor(private readonly db: Database) {}

  async toggle(userId: string, productId: number): Promise<WishlistToggleResult> {
    return this.db.$transaction(async (tx) => {
      const removed = await tx.wishlistItem.deleteMany({ where: { userId, productId } });
      if (removed.count === 0) {
        // ON CONFLICT DO NOTHING: a concurrent toggle that already added it wins, with no error.
        await tx.wishlistItem.createMany({ data: [{ userId, productId }], skipDuplicates: true });
      }
      const count = await tx.wishlistItem.count({ where: { userId } });
      return { productId: String(productId), inWishlist: removed.count === 0, count };
    });
  }

  async productIdsOf(userId: string, first: number): Promise<number[]> {
    const rows = await this.db.wishlistItem.findMany({
      where: { userId },
      orderBy: { createdAt: 'desc' },
      take: first,
      select: { productId: true },
    });
    return rows.map((r) => r.productId);
  }
}
