// The other pages: upcoming events, products, one product with live stock, the cart with checkout, and
// sign-in. Each returns how to stop what it started (its subscriptions).
import { execute, session } from './api.ts';
import { announce, h, money } from './dom.ts';
import type { Live } from './live.ts';
import {
  AddressCheckDocument,
  type AddressCheckQuery,
  AddToCartDocument,
  CartDocument,
  CheckoutDocument,
  MeDocument,
  ProductListDocument,
  ProductPageDocument,
  SignInDocument,
  StockLevelDocument,
  UpcomingEventsDocument,
} from '../../src/generated/client/graphql.ts';

type Stop = () => void;
const nothing: Stop = () => {};

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export async function eventsPage(root: HTMLElement): Promise<Stop> {
  const { events } = await execute(UpcomingEventsDocument, { first: 24 });
  root.append(
    h('h2', {}, 'Upcoming events'),
    h(
      'ul',
      { className: 'cards', id: 'events' },
      events.nodes.map((e) =>
        h(
          'li',
          {},
          h('a', { href: `#/event/${e.id}` }, e.name),
          h('span', {}, `${new Date(e.startsAt).toLocaleString()} · ${e.venue.name}, ${e.venue.city}`),
          h('span', {}, e.status === 'SOLD_OUT' ? 'Sold out' : `${e.availableSeats} seats available`),
        ),
      ),
    ),
  );
  return nothing;
}

export async function productsPage(root: HTMLElement): Promise<Stop> {
  const { products } = await execute(ProductListDocument, { first: 24, sort: 'BEST_SELLING' });
  root.append(
    h('h2', {}, 'Shop'),
    h(
      'ul',
      { className: 'cards' },
      products.nodes.map((p) =>
        h(
          'li',
          {},
          h('a', { href: `#/product/${p.id}` }, p.name),
          h('span', {}, `${money(p.basePrice)} · ${p.inventory?.inStock ? 'in stock' : 'sold out'}`),
        ),
      ),
    ),
  );
  return nothing;
}

export async function productPage(root: HTMLElement, live: Live, id: string): Promise<Stop> {
  const signedIn = session.token() !== null;
  const [{ product }, me] = await Promise.all([
    execute(ProductPageDocument, { id }),
    signedIn ? execute(MeDocument, {}).then((r) => r.me) : Promise.resolve(null),
  ]);
  if (!product) {
    root.append(h('p', {}, 'No such product.'));
    return nothing;
  }
  const stock = h('p', { id: 'stock', 'aria-live': 'polite' });
  const showStock = (available: number): void => {
    stock.dataset.available = String(available);
    stock.textContent = available > 0 ? `${available} in stock` : 'Sold out';
  };
  showStock(product.inventory?.available ?? 0);
  const add = h('button', { id: 'add-to-cart', type: 'button', disabled: !signedIn }, 'Add to cart');
  add.addEventListener('click', () => {
    execute(AddToCartDocument, { productId: id, quantity: 1 }).then(
      ({ addToCart }) => announce(`Added. Your cart has ${addToCart.itemCount} items, ${money(addToCart.subtotal)}.`),
      (error: unknown) => announce(messageOf(error), 'error'),
    );
  });
  const price = product.price;
  root.append(
    h('h2', {}, product.name),
    h('p', { className: 'muted' }, `${product.sku} · ${product.category?.name ?? ''}`),
    h(
      'p',
      { id: 'price', className: 'price' },
      money(price.amount, price.currency),
      price.isMemberPrice && me?.tier ? h('span', { className: 'badge' }, ` ${me.tier} member price`) : null,
      price.isMemberPrice ? h('s', { className: 'muted' }, ` ${money(product.basePrice)}`) : null,
    ),
    stock,
    h('p', {}, product.description),
    add,
    signedIn ? '' : h('p', {}, h('a', { href: '#/signin' }, 'Sign in'), ' for member prices and a cart.'),
  );
  return live.add((subscribe) =>
    subscribe(StockLevelDocument, { productId: id }, ({ inventoryChanged }) => showStock(inventoryChanged.available)),
  );
}

function field(label: string, name: string, value = ''): HTMLLabelElement {
  return h('label', {}, label, h('input', { name, id: `field-${name}`, value, required: true, autocomplete: 'on' }));
}

export async function cartPage(root: HTMLElement): Promise<Stop> {
  if (session.token() === null) {
    root.append(h('p', {}, h('a', { href: '#/signin' }, 'Sign in'), ' to see your cart.'));
    return nothing;
  }
  const { cart } = await execute(CartDocument, {});
  const result = h('div', { id: 'checkout-result', 'aria-live': 'polite' });
  const error = h('p', { id: 'checkout-error', role: 'alert', className: 'error' });
  const form = h(
    'form',
    { id: 'checkout', 'aria-label': 'Shipping address' },
    field('Address', 'line1'),
    field('Postcode', 'postcode'),
    field('City', 'city'),
    field('State', 'state'),
    h('button', { type: 'submit', disabled: cart.items.length === 0 }, 'Place order'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    error.textContent = '';
    const data = Object.fromEntries(new FormData(form)) as Record<'line1' | 'postcode' | 'city' | 'state', string>;
    void (async () => {
      // The address is checked first: a postcode that does not match its city never reaches checkout.
      let check: AddressCheckQuery;
      try {
        check = await execute(AddressCheckDocument, {
          postcode: data.postcode,
          city: data.city,
          state: data.state,
          weightGrams: Math.max(1, cart.weightGrams),
        });
      } catch (err) {
        error.textContent = `Postcode: ${messageOf(err)}`;
        return;
      }
      const { validatePostcode: v, shippingQuote: q } = check;
      if (!v.valid) {
        error.textContent = `Postcode ${data.postcode} does not exist.`;
        return;
      }
      if (!v.matches) {
        error.textContent = `Postcode ${data.postcode} belongs to ${v.city}, ${v.state?.name ?? ''}, not ${data.city}.`;
        return;
      }
      result.replaceChildren(
        h('p', {}, `Shipping ${money(q.fee, q.currency)} (${q.zone.name}, ${q.etaDaysMin}-${q.etaDaysMax} days)`),
      );
      const { checkout } = await execute(CheckoutDocument, { address: data, idempotencyKey: crypto.randomUUID() });
      result.append(h('p', { id: 'order-placed' }, `Order placed: ${money(checkout.total, checkout.currency)}.`));
      announce('Order placed.');
    })().catch((err: unknown) => (error.textContent = messageOf(err)));
  });
  root.append(
    h('h2', {}, 'Cart'),
    cart.items.length === 0
      ? h('p', {}, 'Your cart is empty.')
      : h(
          'ul',
          { id: 'cart-items' },
          cart.items.map((i) =>
            h(
              'li',
              {},
              `${i.quantity} × ${i.product.name}: ${money(i.lineTotal)}${i.isAvailable ? '' : ' (not in stock)'}`,
            ),
          ),
        ),
    h('p', {}, `Subtotal ${money(cart.subtotal, cart.currency)}`),
    h('h3', {}, 'Checkout'),
    form,
    error,
    result,
  );
  return nothing;
}

export async function signInPage(root: HTMLElement, onSignedIn: () => void): Promise<Stop> {
  const error = h('p', { role: 'alert', className: 'error', id: 'signin-error' });
  const form = h(
    'form',
    { id: 'signin', 'aria-label': 'Sign in' },
    h(
      'label',
      {},
      'Email',
      h('input', { name: 'email', type: 'email', id: 'email', required: true, autocomplete: 'username' }),
    ),
    h(
      'label',
      {},
      'Password',
      h('input', {
        name: 'password',
        type: 'password',
        id: 'password',
        required: true,
        autocomplete: 'current-password',
      }),
    ),
    h('button', { type: 'submit' }, 'Sign in'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const data = new FormData(form);
    execute(SignInDocument, { email: String(data.get('email')), password: String(data.get('password')) }).then(
      ({ signIn }) => {
        session.set(signIn.token);
        announce(`Signed in as ${signIn.user.displayName}.`);
        onSignedIn();
      },
      (err: unknown) => (error.textContent = messageOf(err)),
    );
  });
  root.append(h('h2', {}, 'Sign in'), form, error);
  return nothing;
}
