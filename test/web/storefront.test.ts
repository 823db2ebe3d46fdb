// The storefront pages in a real browser: sign-in through the form, the member's own price, live stock from
// an admin's change, and a checkout whose postcode does not match its city (refused, no order in PostgreSQL).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { addressIn } from '../commerce/kit.ts';
import { withPg } from '../support/database.ts';
import { dataOf, SEED_PASSWORD, signIn } from '../support/kit.ts';
import { documentsSent, open, openContext, useWebFixture } from './kit.ts';
import MANIFEST from '../../src/generated/client/persisted-documents.json' with { type: 'json' };

const web = useWebFixture(0);
/** A seeded GOLD member (tiers cycle REGULAR, SILVER, GOLD, PLATINUM). */
const GOLD_MEMBER = 'customer3@cachegate.test';

const PRODUCT = /* GraphQL */ `
  query Product($id: ID!) { product(id: $id) { id name price { amount isMemberPrice } inventory { onHand available } } }
`;
const SET_STOCK = /* GraphQL */ `
  mutation SetStock($id: ID!, $onHand: Int!) { setStock(productId: $id, onHand: $onHand) { available } }
`;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

async function ordersOf(userId: string): Promise<number> {
  return withPg(web.database.url, async (client) => {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM "Order" WHERE "userId" = $1', [
      userId,
    ]);
    return rows[0]!.n;
  });
}

describe('the storefront', () => {
  it('signs in, shows the member’s price and the stock an admin sets within a second, and checks out', async () => {
    const member = await signIn(web.gateway.url, GOLD_MEMBER, SEED_PASSWORD);
    const productId = '7';
    const { product } = dataOf(
      await web.gateway.query<{ product: { name: string; price: { amount: string; isMemberPrice: boolean } } }>(
        PRODUCT,
        { id: productId },
        member.headers,
      ),
    );
    expect(product.price.isMemberPrice).toBe(true);

    const context = await openContext(web, undefined);
    const page = await open(web, context, '#/signin');
    await page.getByLabel('Email').fill(GOLD_MEMBER);
    await page.getByLabel('Password').fill(SEED_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#signout').waitFor();
    await page.goto(`${web.appUrl}#/product/${productId}`);
    await page.locator('h2', { hasText: product.name }).waitFor();
    expect(await page.locator('#price').textContent()).toContain(`MYR ${Number(product.price.amount).toFixed(2)}`);
    expect(await page.locator('#price').textContent()).toContain('GOLD member price');
    await page.locator('#live[data-state="connected"]').waitFor();

    const admin = await signIn(web.gateway.url);
    const before = Number(await page.locator('#stock').getAttribute('data-available'));
    const set = dataOf(
      await web.gateway.query<{ setStock: { available: number } }>(
        SET_STOCK,
        { id: productId, onHand: before + 17 },
        admin.headers,
      ),
    );
    const changed = Date.now();
    await page.locator(`#stock[data-available="${set.setStock.available}"]`).waitFor({ timeout: 1_000 });
    expect(Date.now() - changed).toBeLessThan(1_000);
    expect(await page.locator('#stock').textContent()).toBe(`${set.setStock.available} in stock`);

    await page.locator('#add-to-cart').click();
    await page.locator('#announcer', { hasText: /Your cart has 1 items/ }).waitFor();
    await page.goto(`${web.appUrl}#/cart`);
    await page.locator('#cart-items li').first().waitFor();

    // The postcode is real, the city is not its city: the page says so and no order is placed.
    const address = await addressIn(web.database.url, 'KUL');
    await page.getByLabel('Address', { exact: true }).fill(address.line1);
    await page.getByLabel('Postcode').fill(address.postcode);
    await page.getByLabel('City').fill('Kuching');
    await page.getByLabel('State').fill(address.state);
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.locator('#checkout-error', { hasText: `belongs to ${address.city}` }).waitFor();
    expect(await page.locator('#order-placed').count()).toBe(0);
    expect(await ordersOf(member.userId)).toBe(0);

    // With the postcode's own city the same form places the order, with its shipping quote.
    await page.getByLabel('City').fill(address.city);
    await page.getByRole('button', { name: 'Place order' }).click();
    await page.locator('#order-placed').waitFor();
    expect(await page.locator('#checkout-result').textContent()).toMatch(/Shipping MYR \d+\.\d\d \(Peninsular/);
    expect(await page.locator('#checkout-error').textContent()).toBe('');
    expect(await ordersOf(member.userId)).toBe(1);
    expect(web.pageErrors).toEqual([]);
    await context.close();

    // Everything the app sent is a document of codegen's persisted manifest, by its hash: the app would run
    // the same under ALLOWED_OPERATIONS=persisted.
    const sent = new Set(documentsSent());
    expect(sent.size).toBeGreaterThanOrEqual(9);
    for (const query of sent) expect(MANIFEST).toHaveProperty([`sha256:${sha256(query)}`], query);
  });

  it('serves the app with its cache headers and security policy', async () => {
    const index = await fetch(web.appUrl);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await index.text();
    const script = /src="(\/app\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    const style = /href="(\/app\/style-[A-Z0-9]+\.css)"/.exec(html)?.[1];
    expect(script && style).toBeTruthy();
    for (const asset of [script!, style!]) {
      const response = await fetch(new URL(asset, web.appUrl));
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const etag = response.headers.get('etag')!;
      const again = await fetch(new URL(asset, web.appUrl), { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
    }
    const bare = await fetch(web.appUrl.replace(/\/$/, ''), { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([308, '/app/']);
    expect((await fetch(new URL('/app/nope.js', web.appUrl))).status).toBe(404);
    expect((await fetch(new URL('/app/../metrics', web.appUrl))).headers.get('content-type')).not.toContain('html');
  });
});
