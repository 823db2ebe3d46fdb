// Error codes of the storefront, beside the shared ones in src/infra/errors.ts.
import { type ErrorCode, GatewayError } from '../infra/errors.ts';

export const CommerceErrorCode = {
  OUT_OF_STOCK: 'OUT_OF_STOCK',
} as const;

/** A checkout line that the stock cannot fill: nothing was taken, the cart is unchanged. */
export class OutOfStockError extends GatewayError {
  constructor(productId: number) {
    // A code of our own: GatewayError's type lists the shared codes only.
    super('not enough stock for a line of the cart', CommerceErrorCode.OUT_OF_STOCK as unknown as ErrorCode, {
      productId: String(productId),
    });
  }
}
