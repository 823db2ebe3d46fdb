// Shared by the storefront tests (test/commerce/*): shoppers (test/support/shoppers.ts), cart and
// checkout operations, and a known-good Malaysian address. No mocks: real gateways over real PostgreSQL
// and redis-server.
import { createClient } from 'graphql-ws';
import { expect } from 'vitest';
import WebSocket from 'ws';
import { countSubscribers } from '../../src/redis/slots.ts';
import { rawRedis } from '../support/kit.ts';
import { codesOf, sqlRows, withPg } from '../accounts/kit.ts';
import { bearer, dataOf, gql, type Headers, type Reply } from '../support/kit.ts';
import type { Shopper, Tier } from '../support/shoppers.ts';
import type { TestGateway } from '../support/gateway.ts';

export { bearer, codesOf, dataOf, gql, sqlRows, withPg, type Headers, type Reply };

export { createShoppers, type Shopper, type Tier } from '../support/shoppers.ts';

/** A product id with its stock set to `onHand` in PostgreSQL (caches are told by the gateway's own writes only). */
export async function productWithStock(databaseUrl: string, onHand: number, offset = 0): Promise<number> {
  const [row] = await sqlRows<{ productId: number }>(
    databaseUrl,
    `UPDATE "Inventory" SET "onHand" = $1, reserved = 0
      WHERE "productId" = (SELECT "productId" FROM "Inventory" ORDER BY "productId" OFFSET $2 LIMIT 1)
      RETURNING "productId"`,
    [onHand, offset],
  );
  if (!row) throw new Error('the seed has no inventory rows');
  return row.productId;
}

/**
 * Puts `quantity` units of the product in each shopper's open cart, straight in PostgreSQL (the truth;
 * the gateway reads it on a Redis miss). For the concurrency tests, whose subject is checkout, not carts.
 */
export async function fillCarts(
  databaseUrl: string,
  shoppers: readonly Shopper[],
  productId: number,
  quantity = 1,
): Promise<void> {
  await sqlRows(
    databaseUrl,
    `WITH carts AS (
       INSERT INTO "Cart" (id, "userId", status, "createdAt", "updatedAt")
       SELECT gen_random_uuid(), u, 'OPEN', now(), now() FROM unnest($1::uuid[]) AS u RETURNING id)
     INSERT INTO "CartItem" ("cartId", "productId", quantity, "addedAt") SELECT id, $2, $3, now() FROM carts`,
    [shoppers.map((s) => s.userId), productId, quantity],
  );
}

export interface Address {
  line1: string;
  postcode: string;
  city: string;
  state: string;
}

/** A real address from the postcode table (first code of a state), as a shopper would type it. */
export async function addressIn(databaseUrl: string, stateCode = 'KUL'): Promise<Address> {
  const [row] = await sqlRows<{ code: string; city: string; state: string }>(
    databaseUrl,
    `SELECT p.code, p.city, s.name AS state FROM "Postcode" p JOIN "State" s ON s.id = p."stateId"
      WHERE s.code = $1 ORDER BY p.code, p.city LIMIT 1`,
    [stateCode],
  );
  if (!row) throw new Error(`no postcode in ${stateCode}`);
  return { line1: '12 Jalan Contoh', postcode: row.code, city: row.city, state: row.state };
}

export const ADD_TO_CART = /* GraphQL */ `
  mutation Add($productId: ID!, $quantity: Int) {
    addToCart(productId: $productId, quantity: $quantity) { itemCount subtotal items { quantity product { id } } }
  }
`;

export const CART = /* GraphQL */ `
  query Cart {
    cart {
      itemCount subtotal currency weightGrams hasUnavailableItems
      items { quantity available isAvailable lineTotal unitPrice { tier amount } product { id } }
    }
  }
`;

export const CHECKOUT = /* GraphQL */ `
  mutation Checkout($address: ShippingAddressInput!, $key: String!) {
    checkout(shippingAddress: $address, idempotencyKey: $key) {
      id status tier subtotal shippingFee total currency weightGrams shippingZone
      items { productId sku name quantity unitPrice lineTotal }
      shippingAddress { line1 postcode city state }
    }
  }
`;

export interface OrderData {
  id: string;
  status: string;
  tier: Tier;
  subtotal: string;
  shippingFee: string;
  total: string;
  shippingZone: string;
  items: { productId: string | null; quantity: number; unitPrice: string; lineTotal: string }[];
}

export async function addToCart(gateway: TestGateway, shopper: Shopper, productId: number, quantity = 1) {
  return dataOf(await gql(gateway.url, ADD_TO_CART, { productId: String(productId), quantity }, shopper.headers));
}

export function checkout(gateway: TestGateway, shopper: Shopper, address: Address, key: string) {
  return gql<{ checkout: OrderData }>(gateway.url, CHECKOUT, { address, key }, shopper.headers);
}

/** Every shopper checks out at once; returns the orders and the error codes of the refusals. */
export async function checkoutAll(
  gateway: TestGateway,
  shoppers: readonly Shopper[],
  address: Address,
): Promise<{ orders: OrderData[]; refusals: unknown[]; replies: Reply<{ checkout: OrderData }>[] }> {
  const replies = await Promise.all(shoppers.map((s, i) => checkout(gateway, s, address, `race-${i}-${s.userId}`)));
  for (const reply of replies) expect(reply.status, reply.text.slice(0, 300)).toBe(200);
  const orders = replies.flatMap((r) => (r.body.data?.checkout ? [r.body.data.checkout] : []));
  const refusals = replies.flatMap((r) => codesOf(r));
  return { orders, refusals, replies };
}

const wsUrl = (gateway: TestGateway): string => gateway.url.replace(/^http/, 'ws');

/**
 * Subscribes to inventoryChanged on `gateway` over graphql-ws and resolves once the gateway's Redis
 * channel has its subscriber (PUBSUB NUMSUB), so nothing published afterwards can be missed.
 */
export async function watchStock(
  gateway: TestGateway,
  redisUrl: string,
  productId: number,
): Promise<{ next: Promise<unknown>; dispose(): Promise<void> }> {
  const client = createClient({ url: wsUrl(gateway), webSocketImpl: WebSocket, retryAttempts: 0 });
  const next = new Promise<unknown>((resolve, reject) => {
    const stop = client.subscribe(
      {
        query: 'subscription ($id: ID!) { inventoryChanged(productId: $id) { productId onHand available } }',
        variables: { id: String(productId) },
      },
      {
        next: (message) => {
          resolve(message.data);
          stop();
        },
        error: reject,
        complete: () => undefined,
      },
    );
  });
  const redis = rawRedis(redisUrl);
  await redis.connect();
  try {
    const channel = `${gateway.cachePrefix}:inventory:${productId}`;
    for (let tries = 0; ; tries += 1) {
      if ((await countSubscribers(redis, channel)) > 0) break;
      if (tries > 200) throw new Error(`nobody subscribed ${channel}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    redis.disconnect();
  }
  return { next, dispose: async () => void (await client.dispose()) };
}
